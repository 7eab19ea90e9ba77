"""Gear rows with their documents and repairs, always scoped to their owner: another user's
id, or a document or repair id under another gear id, reads as "not found"."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound
from veza.store.columns import assignments

COLUMNS = ("id, owner_id, name, brand, model, serial_number, category, purchase_date, purchase_price_cents, "
           "currency, condition, status, warranty_expires, notes, created_at, updated_at")
FIELDS = ("name", "brand", "model", "serial_number", "category", "purchase_date", "purchase_price_cents",
          "currency", "condition", "status", "warranty_expires", "notes")


async def create_gear(conn: asyncpg.Connection, owner_id: UUID, fields: dict[str, Any]) -> dict[str, Any]:
    names = [f for f in FIELDS if f in fields]
    placeholders = ", ".join(f"${i + 2}" for i in range(len(names)))
    row = await conn.fetchrow(
        f"INSERT INTO gear (owner_id, {', '.join(names)}) VALUES ($1, {placeholders}) RETURNING {COLUMNS}",
        owner_id, *[fields[f] for f in names])
    return dict(row)


async def get_gear(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM gear WHERE id = $1 AND owner_id = $2", gear_id, owner_id)
    if row is None:
        raise NotFound("Gear not found")
    return dict(row)


async def list_gear(conn: asyncpg.Connection, owner_id: UUID, *, q: str | None, category: str | None,
                    limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    where, args = ["owner_id = $1"], [owner_id]
    if q:
        args.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        n = len(args)
        where.append(f"(name ILIKE ${n} OR brand ILIKE ${n} OR model ILIKE ${n} OR serial_number ILIKE ${n})")
    if category:
        args.append(category)
        where.append(f"category = ${len(args)}")
    clause = " AND ".join(where)
    total = await conn.fetchval(f"SELECT count(*) FROM gear WHERE {clause}", *args)
    rows = await conn.fetch(f"SELECT {COLUMNS} FROM gear WHERE {clause} ORDER BY created_at DESC, id DESC "
                            f"LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}", *args, limit, offset)
    return [dict(r) for r in rows], total


async def update_gear(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID,
                      changes: dict[str, Any]) -> dict[str, Any]:
    sets, values = assignments(changes, FIELDS, 3)
    if not sets:
        return await get_gear(conn, owner_id, gear_id)
    row = await conn.fetchrow(
        f"UPDATE gear SET {sets}, updated_at = now() WHERE id = $1 AND owner_id = $2 RETURNING {COLUMNS}",
        gear_id, owner_id, *values)
    if row is None:
        raise NotFound("Gear not found")
    return dict(row)


async def delete_gear(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID) -> list[str]:
    """Delete the gear with its documents and repairs (ON DELETE CASCADE); the storage keys
    of its documents, for the caller to free after commit."""
    await lock_gear(conn, owner_id, gear_id)
    keys = await conn.fetch("SELECT storage_key FROM gear_documents WHERE gear_id = $1", gear_id)
    await conn.execute("DELETE FROM gear WHERE id = $1", gear_id)
    return [r["storage_key"] for r in keys]


async def lock_gear(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID) -> None:
    """The owner's gear row, locked until commit (documents are counted under it)."""
    if await conn.fetchval("SELECT id FROM gear WHERE id = $1 AND owner_id = $2 FOR UPDATE", gear_id, owner_id) is None:
        raise NotFound("Gear not found")


async def gear_exists(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID) -> None:
    if await conn.fetchval("SELECT id FROM gear WHERE id = $1 AND owner_id = $2", gear_id, owner_id) is None:
        raise NotFound("Gear not found")


# Documents: always reached through their gear, so a wrong owner or gear id is "not found".

DOCUMENT_COLUMNS = "id, gear_id, type, name, mime_type, size_bytes, sha256, storage_key, created_at"


async def count_documents(conn: asyncpg.Connection, gear_id: UUID) -> int:
    return await conn.fetchval("SELECT count(*) FROM gear_documents WHERE gear_id = $1", gear_id)


async def create_document(conn: asyncpg.Connection, gear_id: UUID, fields: dict[str, Any]) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"INSERT INTO gear_documents (gear_id, type, name, mime_type, size_bytes, sha256, storage_key) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {DOCUMENT_COLUMNS}",
        gear_id, fields["type"], fields["name"], fields["mime_type"], fields["size_bytes"], fields["sha256"],
        fields["storage_key"])
    return dict(row)


async def list_documents(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID, limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
    await gear_exists(conn, owner_id, gear_id)
    total = await count_documents(conn, gear_id)
    rows = await conn.fetch(f"SELECT {DOCUMENT_COLUMNS} FROM gear_documents WHERE gear_id = $1 "
                            "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3", gear_id, limit, offset)
    return [dict(r) for r in rows], total


async def get_document(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID, doc_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"SELECT {', '.join('d.' + c.strip() for c in DOCUMENT_COLUMNS.split(','))} FROM gear_documents d "
        "JOIN gear g ON g.id = d.gear_id WHERE d.id = $1 AND d.gear_id = $2 AND g.owner_id = $3",
        doc_id, gear_id, owner_id)
    if row is None:
        raise NotFound("Document not found")
    return dict(row)


async def delete_document(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID, doc_id: UUID) -> str:
    """The deleted document's storage key."""
    key = await conn.fetchval(
        "DELETE FROM gear_documents d USING gear g WHERE d.id = $1 AND d.gear_id = $2 AND g.id = d.gear_id "
        "AND g.owner_id = $3 RETURNING d.storage_key", doc_id, gear_id, owner_id)
    if key is None:
        raise NotFound("Document not found")
    return key


# Repairs

REPAIR_COLUMNS = "id, gear_id, repair_date, description, cost_cents, currency, provider, created_at"


async def create_repair(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID, fields: dict[str, Any]) -> dict[str, Any]:
    await gear_exists(conn, owner_id, gear_id)
    try:
        row = await conn.fetchrow(
            f"INSERT INTO gear_repairs (gear_id, repair_date, description, cost_cents, currency, provider) "
            f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {REPAIR_COLUMNS}",
            gear_id, fields["repair_date"], fields["description"], fields["cost_cents"], fields["currency"],
            fields["provider"])
    except asyncpg.ForeignKeyViolationError:  # the gear went meanwhile
        raise NotFound("Gear not found") from None
    return dict(row)


async def list_repairs(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID, limit: int,
                       offset: int) -> tuple[list[dict[str, Any]], int]:
    """Newest first: by repair date, then by when they were recorded."""
    await gear_exists(conn, owner_id, gear_id)
    total = await conn.fetchval("SELECT count(*) FROM gear_repairs WHERE gear_id = $1", gear_id)
    rows = await conn.fetch(f"SELECT {REPAIR_COLUMNS} FROM gear_repairs WHERE gear_id = $1 "
                            "ORDER BY repair_date DESC, created_at DESC, id DESC LIMIT $2 OFFSET $3",
                            gear_id, limit, offset)
    return [dict(r) for r in rows], total


async def delete_repair(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID, repair_id: UUID) -> None:
    deleted = await conn.fetchval(
        "DELETE FROM gear_repairs r USING gear g WHERE r.id = $1 AND r.gear_id = $2 AND g.id = r.gear_id "
        "AND g.owner_id = $3 RETURNING r.id", repair_id, gear_id, owner_id)
    if deleted is None:
        raise NotFound("Repair not found")
