"""Gear rows, always scoped to their owner: another user's id reads as "not found"."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

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
    names = [f for f in FIELDS if f in changes]
    if not names:
        return await get_gear(conn, owner_id, gear_id)
    sets = ", ".join(f"{f} = ${i + 3}" for i, f in enumerate(names))
    row = await conn.fetchrow(
        f"UPDATE gear SET {sets}, updated_at = now() WHERE id = $1 AND owner_id = $2 RETURNING {COLUMNS}",
        gear_id, owner_id, *[changes[f] for f in names])
    if row is None:
        raise NotFound("Gear not found")
    return dict(row)


async def delete_gear(conn: asyncpg.Connection, owner_id: UUID, gear_id: UUID) -> None:
    if await conn.fetchval("DELETE FROM gear WHERE id = $1 AND owner_id = $2 RETURNING id", gear_id, owner_id) is None:
        raise NotFound("Gear not found")
