"""Gear: the user's items, their documents (metadata, and the files under files/gear/) and
repair records."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_archive import safe_name
from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream

_DOCUMENTS = ("SELECT d.id, d.gear_id, d.type, d.name, d.mime_type, d.size_bytes, d.sha256, d.created_at, d.storage_key"
              " FROM gear_documents d JOIN gear g ON g.id = d.gear_id WHERE g.owner_id = $1"
              " ORDER BY d.created_at, d.id")


def _path(row: Any) -> str:
    return f"files/gear/{row['id']}/{safe_name(row['name'])}"


@exporter("inventory", covers=("gear.owner_id",))
async def inventory(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("gear.jsonl", stream(
        conn, "SELECT id, name, brand, model, serial_number, category, purchase_date, purchase_price_cents,"
              " currency, condition, status, warranty_expires, notes, created_at, updated_at FROM gear"
              " WHERE owner_id = $1 ORDER BY created_at, id", user_id))
    await archive.rows("gear_documents.jsonl", (
        {**{k: v for k, v in row.items() if k != "storage_key"}, "file": _path(row)}
        async for row in stream(conn, _DOCUMENTS, user_id)))
    await archive.rows("gear_repairs.jsonl", stream(
        conn, "SELECT r.id, r.gear_id, r.repair_date, r.description, r.cost_cents, r.currency, r.provider,"
              " r.created_at FROM gear_repairs r JOIN gear g ON g.id = r.gear_id WHERE g.owner_id = $1"
              " ORDER BY r.created_at, r.id", user_id))
    async for row in stream(conn, _DOCUMENTS, user_id):
        await archive.file(_path(row), row["storage_key"])
