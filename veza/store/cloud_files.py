"""Cloud file rows and their saved versions, always scoped to their owner.

Another user's id reads as "not found". Rows name stored objects by key; which objects a
change frees is worked out here too (`unreferenced`), since a file's current content and
its versions may share one object.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import Conflict, NotFound
from veza.store.columns import assignments

FILE_COLUMNS = ("id, owner_id, folder_id, name, storage_key, size_bytes, mime_type, sha256, version, "
                "created_at, updated_at")
VERSION_COLUMNS = "id, file_id, version, storage_key, size_bytes, mime_type, sha256, created_at"
_NAME_TAKEN = "cloud_files_unique_name"


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A file named {name!r} already exists in this folder; replace its content instead",
                    details={"name": "taken"})


async def create(conn: asyncpg.Connection, owner_id: UUID, folder_id: UUID | None, name: str,
                 content: dict[str, Any]) -> dict[str, Any]:
    """`content`: storage_key, size_bytes, mime_type, sha256."""
    try:
        row = await conn.fetchrow(
            f"INSERT INTO cloud_files (owner_id, folder_id, name, storage_key, size_bytes, mime_type, sha256) "
            f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {FILE_COLUMNS}",
            owner_id, folder_id, name, content["storage_key"], content["size_bytes"], content["mime_type"],
            content["sha256"])
    except asyncpg.UniqueViolationError:
        raise _name_taken(name) from None
    except asyncpg.ForeignKeyViolationError:  # the folder went between the check and the insert
        raise NotFound("Folder not found", details={"folder_id": "not found"}) from None
    return dict(row)


async def get(conn: asyncpg.Connection, owner_id: UUID, file_id: UUID, *, lock: bool = False) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {FILE_COLUMNS} FROM cloud_files WHERE id = $1 AND owner_id = $2"
                              + (" FOR UPDATE" if lock else ""), file_id, owner_id)
    if row is None:
        raise NotFound("File not found")
    return dict(row)


async def page(conn: asyncpg.Connection, owner_id: UUID, folder_id: UUID | None, limit: int,
               after: tuple[dt.datetime, UUID] | None) -> tuple[list[dict[str, Any]], bool]:
    """One folder's files, newest first; keyset after (created_at, id). (rows, has_more)."""
    args: list[Any] = [owner_id, folder_id, limit + 1]
    seek = ""
    if after is not None:
        args += list(after)
        seek = " AND (created_at, id) < ($4, $5)"
    rows = await conn.fetch(
        f"SELECT {FILE_COLUMNS} FROM cloud_files WHERE owner_id = $1 AND folder_id IS NOT DISTINCT FROM $2{seek} "
        f"ORDER BY created_at DESC, id DESC LIMIT $3", *args)
    return [dict(r) for r in rows[:limit]], len(rows) > limit


async def set_content(conn: asyncpg.Connection, file_id: UUID, content: dict[str, Any], version: int) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"UPDATE cloud_files SET storage_key = $2, size_bytes = $3, mime_type = $4, sha256 = $5, version = $6, "
        f"updated_at = now() WHERE id = $1 RETURNING {FILE_COLUMNS}",
        file_id, content["storage_key"], content["size_bytes"], content["mime_type"], content["sha256"], version)
    return dict(row)


async def rename_move(conn: asyncpg.Connection, owner_id: UUID, file_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes`: name and/or folder_id (None = the root)."""
    sets, values = assignments(changes, ("name", "folder_id"), 3)
    if not sets:
        return await get(conn, owner_id, file_id)
    try:
        row = await conn.fetchrow(
            f"UPDATE cloud_files SET {sets}, updated_at = now() WHERE id = $1 AND owner_id = $2 RETURNING {FILE_COLUMNS}",
            file_id, owner_id, *values)
    except asyncpg.UniqueViolationError:
        raise _name_taken(changes.get("name") or "that name") from None
    except asyncpg.ForeignKeyViolationError:
        raise NotFound("Folder not found", details={"folder_id": "not found"}) from None
    if row is None:
        raise NotFound("File not found")
    return dict(row)


async def delete(conn: asyncpg.Connection, file_id: UUID) -> None:
    await conn.execute("DELETE FROM cloud_files WHERE id = $1", file_id)


# Versions ---------------------------------------------------------------------------------

async def versions(conn: asyncpg.Connection, file_id: UUID) -> list[dict[str, Any]]:
    """Newest first (there are at most CLOUD_MAX_VERSIONS)."""
    rows = await conn.fetch(f"SELECT {VERSION_COLUMNS} FROM cloud_file_versions WHERE file_id = $1 "
                            "ORDER BY version DESC", file_id)
    return [dict(r) for r in rows]


async def version(conn: asyncpg.Connection, file_id: UUID, number: int) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {VERSION_COLUMNS} FROM cloud_file_versions WHERE file_id = $1 AND version = $2",
                              file_id, number)
    if row is None:
        raise NotFound(f"No version {number} of this file")
    return dict(row)


async def version_with_key(conn: asyncpg.Connection, file_id: UUID, key: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {VERSION_COLUMNS} FROM cloud_file_versions WHERE file_id = $1 "
                              "AND storage_key = $2 ORDER BY version DESC LIMIT 1", file_id, key)
    return dict(row) if row is not None else None


async def add_version(conn: asyncpg.Connection, file: dict[str, Any]) -> dict[str, Any]:
    """Save the file's current content as the version numbered like it."""
    row = await conn.fetchrow(
        f"INSERT INTO cloud_file_versions (file_id, version, storage_key, size_bytes, mime_type, sha256) "
        f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {VERSION_COLUMNS}",
        file["id"], file["version"], file["storage_key"], file["size_bytes"], file["mime_type"], file["sha256"])
    return dict(row)


async def prune(conn: asyncpg.Connection, file_id: UUID, keep: int) -> list[dict[str, Any]]:
    """Delete all but the `keep` newest versions; the rows deleted."""
    rows = await conn.fetch(
        f"DELETE FROM cloud_file_versions WHERE id IN (SELECT id FROM cloud_file_versions WHERE file_id = $1 "
        f"ORDER BY version DESC OFFSET $2) RETURNING {VERSION_COLUMNS}", file_id, keep)
    return [dict(r) for r in rows]


async def prunable_bytes(conn: asyncpg.Connection, file_id: UUID, keep: int) -> int:
    """At most what pruning to `keep` versions could free once one more version is added."""
    return int(await conn.fetchval(
        "SELECT coalesce(sum(size_bytes), 0) FROM (SELECT size_bytes FROM cloud_file_versions WHERE file_id = $1 "
        "ORDER BY version DESC OFFSET $2) o", file_id, max(keep - 1, 0)))


async def unreferenced(conn: asyncpg.Connection, file_id: UUID, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of `candidates` (rows with storage_key, size_bytes), those whose object no row of the
    file names any more, once each."""
    keys = list({c["storage_key"]: c for c in candidates}.values())
    if not keys:
        return []
    still = await conn.fetch(
        "SELECT storage_key FROM cloud_files WHERE id = $1 AND storage_key = ANY($2::text[]) "
        "UNION SELECT storage_key FROM cloud_file_versions WHERE file_id = $1 AND storage_key = ANY($2::text[])",
        file_id, [k["storage_key"] for k in keys])
    used = {r["storage_key"] for r in still}
    return [k for k in keys if k["storage_key"] not in used]


async def objects_of_files(conn: asyncpg.Connection, file_ids: list[UUID]) -> list[dict[str, Any]]:
    """Every object the files name (current contents and versions), once each, with its size."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (storage_key) storage_key, size_bytes FROM ("
        " SELECT storage_key, size_bytes FROM cloud_files WHERE id = ANY($1::uuid[])"
        " UNION ALL SELECT storage_key, size_bytes FROM cloud_file_versions WHERE file_id = ANY($1::uuid[])) o",
        file_ids)
    return [dict(r) for r in rows]
