"""Cloud files: folders, files (metadata, and the content under files/cloud/), earlier
versions, and share links (never their tokens)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_archive import safe_name
from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


def _path(row: Any) -> str:
    return f"files/cloud/{row['id']}/{safe_name(row['name'])}"


def _version_path(row: Any) -> str:
    return f"files/cloud/{row['file_id']}/v{row['version']}/{safe_name(row['name'])}"


@exporter("cloud", covers=("cloud_folders.owner_id", "cloud_files.owner_id", "cloud_shares.owner_id"))
async def cloud(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("cloud_folders.jsonl", stream(
        conn, "SELECT id, parent_id, name, created_at, updated_at FROM cloud_folders WHERE owner_id = $1"
              " ORDER BY created_at, id", user_id))
    files = "SELECT id, folder_id, name, size_bytes, mime_type, sha256, version, created_at, updated_at, storage_key" \
            " FROM cloud_files WHERE owner_id = $1 ORDER BY created_at, id"
    await archive.rows("cloud_files.jsonl", (
        {**{k: v for k, v in row.items() if k != "storage_key"}, "file": _path(row)}
        async for row in stream(conn, files, user_id)))
    # Earlier versions whose bytes differ from the current content (a restore shares them).
    versions = "SELECT v.file_id, v.version, f.name, v.size_bytes, v.mime_type, v.sha256, v.created_at," \
               " v.storage_key, v.storage_key <> f.storage_key AS own_bytes" \
               " FROM cloud_file_versions v JOIN cloud_files f ON f.id = v.file_id WHERE f.owner_id = $1" \
               " ORDER BY f.created_at, f.id, v.version"
    await archive.rows("cloud_file_versions.jsonl", (
        {"file_id": row["file_id"], "version": row["version"], "size_bytes": row["size_bytes"],
         "mime_type": row["mime_type"], "sha256": row["sha256"], "created_at": row["created_at"],
         "file": _version_path(row) if row["own_bytes"] else _path({"id": row["file_id"], "name": row["name"]})}
        async for row in stream(conn, versions, user_id)))
    await archive.rows("cloud_shares.jsonl", stream(
        conn, "SELECT id, file_id, permissions, expires_at, revoked_at, created_at FROM cloud_shares"
              " WHERE owner_id = $1 ORDER BY created_at, id", user_id))
    async for row in stream(conn, files, user_id):
        await archive.file(_path(row), row["storage_key"])
    async for row in stream(conn, versions, user_id):
        if row["own_bytes"]:
            await archive.file(_version_path(row), row["storage_key"])
