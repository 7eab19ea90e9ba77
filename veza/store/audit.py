"""The audit trail: batched inserts from the AuditLog actor, filtered reads for admins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

# The order of AuditEntry's fields.
COLUMNS = ("user_id", "action", "resource", "route", "ip_address", "status", "request_id", "via", "created_at")


async def insert_many(conn: asyncpg.Connection, entries: Sequence[Any]) -> None:
    """The whole batch in one binary COPY: one round trip, and no per-element type checks
    (an unnest of nine arrays costs asyncpg an isinstance per element)."""
    await conn.copy_records_to_table(
        "audit_log", columns=COLUMNS,
        records=[(*entry[:-1], dt.datetime.fromtimestamp(entry[-1], dt.UTC)) for entry in entries])


async def insert_one(conn: asyncpg.Connection, *, user_id: UUID | None, action: str, resource: str,
                     route: str | None, status: int, via: str | None) -> None:
    """An entry that no request made (a webhook's verdict, a worker's decision)."""
    await conn.execute("INSERT INTO audit_log (user_id, action, resource, route, ip_address, status, request_id, via)"
                       " VALUES ($1, $2, $3, $4, '', $5, '', $6)", user_id, action, resource, route, status, via)


async def search(conn: asyncpg.Connection, *, user_id: UUID | None, action: str | None, resource: str | None,
                 status: int | None, since: dt.datetime | None, until: dt.datetime | None,
                 limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    where = ("($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR action = $2)"
             " AND ($3::text IS NULL OR starts_with(resource, $3)) AND ($4::int IS NULL OR status = $4)"
             " AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)")
    args = (user_id, action, resource, status, since, until)
    rows = await conn.fetch(
        f"SELECT id, user_id, action, resource, route, ip_address, status, request_id, via, created_at"
        f" FROM audit_log WHERE {where} ORDER BY created_at DESC, id DESC LIMIT $7 OFFSET $8",
        *args, limit, offset,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM audit_log WHERE {where}", *args)
    return [dict(r) for r in rows], total
