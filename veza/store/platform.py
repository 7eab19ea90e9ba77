"""Feature flags and platform settings (maintenance mode)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg


async def list_flags(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT name, enabled, description, updated_by, updated_at FROM feature_flags ORDER BY name")
    return [dict(r) for r in rows]


async def set_flag(conn: asyncpg.Connection, name: str, enabled: bool, description: str | None,
                   updated_by: UUID | None) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO feature_flags (name, enabled, description, updated_by) VALUES ($1, $2, coalesce($3, ''), $4)"
        " ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled,"
        " description = coalesce($3, feature_flags.description), updated_by = EXCLUDED.updated_by,"
        " updated_at = clock_timestamp()"
        " RETURNING name, enabled, description, updated_by, updated_at",
        name, enabled, description, updated_by,
    )
    return dict(row)


async def get_setting(conn: asyncpg.Connection, key: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT key, value, updated_by, updated_at FROM platform_settings WHERE key = $1", key)
    return dict(row) if row else None


async def put_setting(conn: asyncpg.Connection, key: str, value: dict[str, Any], updated_by: UUID | None) -> dict[str, Any]:
    row = await conn.fetchrow(
        "INSERT INTO platform_settings (key, value, updated_by) VALUES ($1, $2, $3)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by,"
        " updated_at = clock_timestamp()"
        " RETURNING key, value, updated_by, updated_at",
        key, value, updated_by,
    )
    return dict(row)
