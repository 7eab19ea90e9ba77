"""Share links: stored by the SHA-256 of their token, never the token itself."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

COLUMNS = "id, file_id, permissions, expires_at, revoked_at, created_at"
MAX_PER_FILE = 100


async def create(conn: asyncpg.Connection, owner_id: UUID, file_id: UUID, token_hash: bytes, permissions: str,
                 expires_at: dt.datetime) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"INSERT INTO cloud_shares (file_id, owner_id, token_hash, permissions, expires_at) "
        f"VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}", file_id, owner_id, token_hash, permissions, expires_at)
    return dict(row)


async def count_active(conn: asyncpg.Connection, file_id: UUID) -> int:
    return await conn.fetchval("SELECT count(*) FROM cloud_shares WHERE file_id = $1 AND revoked_at IS NULL "
                               "AND expires_at > now()", file_id)


async def of_file(conn: asyncpg.Connection, file_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {COLUMNS} FROM cloud_shares WHERE file_id = $1 "
                            f"ORDER BY created_at DESC, id DESC LIMIT {MAX_PER_FILE}", file_id)
    return [dict(r) for r in rows]


async def live(conn: asyncpg.Connection, token_hash: bytes) -> dict[str, Any]:
    """The share a token opens with its file's current content; unknown, expired and
    revoked links are the same "not found"."""
    row = await conn.fetchrow(
        "SELECT s.permissions, s.expires_at, f.name, f.size_bytes, f.mime_type, f.storage_key "
        "FROM cloud_shares s JOIN cloud_files f ON f.id = s.file_id "
        "WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()", token_hash)
    if row is None:
        raise NotFound("Share link not found")
    return dict(row)


async def revoke(conn: asyncpg.Connection, owner_id: UUID, share_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"UPDATE cloud_shares SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND owner_id = $2 "
        f"RETURNING {COLUMNS}", share_id, owner_id)
    if row is None:
        raise NotFound("Share not found")
    return dict(row)
