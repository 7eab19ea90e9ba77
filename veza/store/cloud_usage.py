"""A user's cloud usage row, and the stored objects waiting to be deleted.

`used_bytes` moves only through `charge`: one conditional UPDATE in the caller's
transaction, so concurrent uploads serialize on the row and can never pass the quota
together.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg


async def used(conn: asyncpg.Connection, owner_id: UUID) -> int:
    value = await conn.fetchval("SELECT used_bytes FROM cloud_usage WHERE user_id = $1", owner_id)
    return int(value or 0)


async def charge(conn: asyncpg.Connection, owner_id: UUID, delta: int, quota: int) -> bool:
    """Add `delta` bytes (negative frees) unless that takes a growing usage past `quota`;
    False when refused. Freeing always succeeds, even above a quota lowered since."""
    if delta == 0:
        return True
    await conn.execute("INSERT INTO cloud_usage (user_id) VALUES ($1) ON CONFLICT DO NOTHING", owner_id)
    row = await conn.fetchval(
        "UPDATE cloud_usage SET used_bytes = used_bytes + $2 "
        "WHERE user_id = $1 AND ($2 < 0 OR used_bytes + $2 <= $3) RETURNING used_bytes",
        owner_id, delta, quota)
    return row is not None


async def add_garbage(conn: asyncpg.Connection, keys: Iterable[str]) -> None:
    keys = list(keys)
    if keys:
        await conn.execute("INSERT INTO storage_garbage (storage_key) SELECT unnest($1::text[]) "
                           "ON CONFLICT DO NOTHING", keys)


async def garbage(conn: asyncpg.Connection, limit: int) -> list[str]:
    rows = await conn.fetch("SELECT storage_key FROM storage_garbage ORDER BY created_at LIMIT $1", limit)
    return [r["storage_key"] for r in rows]


async def forget_garbage(conn: asyncpg.Connection, keys: list[str]) -> None:
    await conn.execute("DELETE FROM storage_garbage WHERE storage_key = ANY($1::text[])", keys)
