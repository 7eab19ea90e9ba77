"""Developer API keys: stored as SHA-256 hashes, looked up by hash."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

_LISTED = "id, name, prefix, scopes, created_at, last_used_at"


async def create(conn: asyncpg.Connection, *, user_id: UUID, name: str, prefix: str, key_hash: str,
                 scopes: Sequence[str]) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING {_LISTED}",
        user_id, name, prefix, key_hash, list(scopes),
    )
    return dict(row)


async def count_for_user_locked(conn: asyncpg.Connection, user_id: UUID) -> int:
    """How many keys the user has, holding (until the transaction ends) a lock that makes any
    other creation for this user wait: the cap check and the insert act as one step."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('api_keys:' || $1::uuid::text, 0))", user_id)
    return await conn.fetchval("SELECT count(*) FROM api_keys WHERE user_id = $1", user_id)


async def list_for_user(conn: asyncpg.Connection, user_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_LISTED} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC", user_id)
    return [dict(r) for r in rows]


async def delete(conn: asyncpg.Connection, user_id: UUID, key_id: UUID) -> None:
    status = await conn.execute("DELETE FROM api_keys WHERE id = $1 AND user_id = $2", key_id, user_id)
    if status.endswith(" 0"):
        raise NotFound("API key not found")


async def find_by_hash(conn: asyncpg.Connection | asyncpg.Pool, key_hash: str) -> dict[str, Any] | None:
    """The key with its owner's current role and ban state (a role change applies at once)."""
    row = await conn.fetchrow(
        "SELECT k.id, k.user_id, k.scopes, k.last_used_at, u.role, u.is_banned"
        " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1",
        key_hash,
    )
    return dict(row) if row else None


async def touch(conn: asyncpg.Connection | asyncpg.Pool, key_id: UUID, min_interval_s: int) -> None:
    await conn.execute(
        "UPDATE api_keys SET last_used_at = now() WHERE id = $1"
        " AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))",
        key_id, min_interval_s,
    )
