"""The notifications the user received."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


@exporter("notifications", covers=("notifications.user_id",))
async def notifications(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("notifications.jsonl", stream(
        conn, "SELECT n.id, n.kind, n.subject_id, n.actor_id, a.username AS actor_username, n.data, n.read_at,"
              " n.created_at FROM notifications n LEFT JOIN users a ON a.id = n.actor_id"
              " WHERE n.user_id = $1 ORDER BY n.created_at, n.id", user_id))
