"""Cloud folders, scoped to their owner; the tree is walked with recursive queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import Conflict, NotFound
from veza.store.columns import assignments

COLUMNS = "id, owner_id, parent_id, name, created_at, updated_at"


def _taken(name: str) -> Conflict:
    return Conflict(f"A folder named {name!r} already exists here", details={"name": "taken"})


async def lock_tree(conn: asyncpg.Connection, owner_id: UUID) -> None:
    """Serialize changes to the shape of one user's tree (moves, deletes) until commit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('cloud-tree:' || $1::uuid::text, 0))", owner_id)


async def create(conn: asyncpg.Connection, owner_id: UUID, parent_id: UUID | None, name: str) -> dict[str, Any]:
    try:
        row = await conn.fetchrow(f"INSERT INTO cloud_folders (owner_id, parent_id, name) VALUES ($1, $2, $3) "
                                  f"RETURNING {COLUMNS}", owner_id, parent_id, name)
    except asyncpg.UniqueViolationError:
        raise _taken(name) from None
    except asyncpg.ForeignKeyViolationError:
        raise NotFound("Parent folder not found", details={"parent_id": "not found"}) from None
    return dict(row)


async def get(conn: asyncpg.Connection, owner_id: UUID, folder_id: UUID, what: str = "Folder") -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM cloud_folders WHERE id = $1 AND owner_id = $2", folder_id, owner_id)
    if row is None:
        raise NotFound(f"{what} not found")
    return dict(row)


async def page(conn: asyncpg.Connection, owner_id: UUID, parent_id: UUID | None, limit: int,
               offset: int) -> tuple[list[dict[str, Any]], int]:
    where = "owner_id = $1 AND parent_id IS NOT DISTINCT FROM $2"
    total = await conn.fetchval(f"SELECT count(*) FROM cloud_folders WHERE {where}", owner_id, parent_id)
    rows = await conn.fetch(f"SELECT {COLUMNS} FROM cloud_folders WHERE {where} ORDER BY lower(name), id "
                            "LIMIT $3 OFFSET $4", owner_id, parent_id, limit, offset)
    return [dict(r) for r in rows], total


async def ancestry(conn: asyncpg.Connection, folder_id: UUID, limit: int) -> list[UUID]:
    """`folder_id` and its ancestors up to the root (at most `limit` + 1 of them)."""
    rows = await conn.fetch(
        "WITH RECURSIVE up(id, parent_id, depth) AS ("
        " SELECT id, parent_id, 1 FROM cloud_folders WHERE id = $1"
        " UNION ALL SELECT f.id, f.parent_id, up.depth + 1 FROM cloud_folders f JOIN up ON f.id = up.parent_id"
        " WHERE up.depth <= $2) SELECT id FROM up", folder_id, limit)
    return [r["id"] for r in rows]


async def subtree(conn: asyncpg.Connection, folder_id: UUID, *, lock: bool = False) -> list[dict[str, Any]]:
    """`folder_id` and every folder below it, with each one's depth under it (0 for itself).
    `lock` takes their rows FOR UPDATE, so nothing can be created or moved into them."""
    rows = await conn.fetch(
        "WITH RECURSIVE down(id, depth) AS (SELECT id, 0 FROM cloud_folders WHERE id = $1"
        " UNION ALL SELECT f.id, down.depth + 1 FROM cloud_folders f JOIN down ON f.parent_id = down.id)"
        " SELECT f.id, d.depth FROM down d JOIN cloud_folders f ON f.id = d.id"
        + (" ORDER BY f.id FOR UPDATE OF f" if lock else ""), folder_id)
    return [dict(r) for r in rows]


async def update(conn: asyncpg.Connection, owner_id: UUID, folder_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    sets, values = assignments(changes, ("name", "parent_id"), 3)
    if not sets:
        return await get(conn, owner_id, folder_id)
    try:
        row = await conn.fetchrow(
            f"UPDATE cloud_folders SET {sets}, updated_at = now() WHERE id = $1 AND owner_id = $2 RETURNING {COLUMNS}",
            folder_id, owner_id, *values)
    except asyncpg.UniqueViolationError:
        raise _taken(changes.get("name") or "that name") from None
    except asyncpg.ForeignKeyViolationError:
        raise NotFound("Parent folder not found", details={"parent_id": "not found"}) from None
    if row is None:
        raise NotFound("Folder not found")
    return dict(row)


async def files_in(conn: asyncpg.Connection, folder_ids: list[UUID]) -> list[UUID]:
    """The files directly in these folders, their rows locked."""
    rows = await conn.fetch("SELECT id FROM cloud_files WHERE folder_id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                            folder_ids)
    return [r["id"] for r in rows]


async def delete(conn: asyncpg.Connection, folder_id: UUID) -> None:
    """The folder and (by cascade) everything under it."""
    await conn.execute("DELETE FROM cloud_folders WHERE id = $1", folder_id)
