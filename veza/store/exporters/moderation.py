"""Moderation: the reports the user filed and the warnings they received."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


@exporter("moderation", covers=("reports.reporter_id", "moderation_warnings.user_id"))
async def moderation(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("reports.jsonl", stream(
        conn, "SELECT id, content_type, content_id, reason, status, action, resolved_at, created_at FROM reports"
              " WHERE reporter_id = $1 ORDER BY created_at, id", user_id))
    await archive.rows("warnings.jsonl", stream(
        conn, "SELECT id, report_id, message, created_at, read_at FROM moderation_warnings"
              " WHERE user_id = $1 ORDER BY created_at, id", user_id))
