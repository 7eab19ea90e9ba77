"""Live streams the user set up: metadata and broadcast history, never the stream key or
the ingest session."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


@exporter("live", covers=("live_streams.owner_id",))
async def live(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("live_streams.jsonl", stream(
        conn, "SELECT id, title, description, category, tags, status, peak_viewers, started_at, ended_at,"
              " duration_seconds, chat_room_id, created_at, updated_at FROM live_streams"
              " WHERE owner_id = $1 ORDER BY created_at, id", user_id))
