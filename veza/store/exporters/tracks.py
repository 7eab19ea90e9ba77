"""Tracks the user uploaded: their metadata, and the audio itself under files/tracks/."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream

_FILE = "'files/tracks/' || id || '.' || format"


@exporter("tracks", covers=("tracks.owner_id",))
async def tracks(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("tracks.jsonl", stream(
        conn, f"SELECT id, title, artist, description, genre, format, mime_type, duration, size_bytes, tags,"
              f" like_count, comment_count, created_at, updated_at, {_FILE} AS file"
              f" FROM tracks WHERE owner_id = $1 ORDER BY created_at, id", user_id))
    async for row in stream(conn, f"SELECT {_FILE} AS file, file_key FROM tracks WHERE owner_id = $1"
                                  f" ORDER BY created_at, id", user_id):
        await archive.file(row["file"], row["file_key"])
