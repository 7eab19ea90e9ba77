"""The audit trail: batched inserts from the AuditLog actor, filtered reads for admins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

# The order of AuditEntry's fields.
COLUMNS = ("user_id", "action", "resource", "route", "ip_address", "status", "request_id", "via", "created_at")


_INSERT = (
    "INSERT INTO audit_log (user_id, action, resource, route, ip_address, status, request_id, via, created_at)"
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[],"
    " $8::text[], $9::timestamptz[])"
)


async def insert_many(conn: asyncpg.Connection, entries: Sequence[Any]) -> None:
    """The whole batch in one prepared statement (one array per column): one round trip."""
    await conn.execute(_INSERT, *(list(column) for column in zip(*entries)))


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
