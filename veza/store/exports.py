"""Data export jobs (`data_exports`): SQL only. Every change of a running job names the
attempt it belongs to (`attempts`, bumped by each claim): a worker that lost its job (reaped
as stuck, or the account erased) changes nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

_COLUMNS = ("id, user_id, status, attempts, storage_key, size_bytes, manifest, error, created_at, started_at,"
            " heartbeat_at, finished_at, expires_at")
_ACTIVE = "status IN ('queued', 'running')"


def _row(record: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


async def active(conn: asyncpg.Connection, user_id: UUID) -> dict[str, Any] | None:
    return _row(await conn.fetchrow(f"SELECT {_COLUMNS} FROM data_exports WHERE user_id = $1 AND {_ACTIVE}", user_id))


async def create(conn: asyncpg.Connection, user_id: UUID) -> dict[str, Any] | None:
    """A queued job; None when the user has one waiting or running already (a concurrent request)."""
    return _row(await conn.fetchrow(
        f"INSERT INTO data_exports (user_id) VALUES ($1) ON CONFLICT (user_id) WHERE {_ACTIVE} DO NOTHING"
        f" RETURNING {_COLUMNS}", user_id))


async def seconds_until_allowed(conn: asyncpg.Connection, user_id: UUID, min_interval: int) -> int:
    """Seconds before the user may ask again: `min_interval` after their last export that
    became ready (0 when they may now)."""
    wait = await conn.fetchval(
        "SELECT ceil(extract(epoch FROM max(finished_at) + make_interval(secs => $2) - now()))::bigint"
        " FROM data_exports WHERE user_id = $1 AND status IN ('ready', 'expired')", user_id, min_interval)
    return max(int(wait or 0), 0)


async def claim(conn: asyncpg.Connection) -> dict[str, Any] | None:
    """The oldest queued job that may run now, moved to running (one worker per job, on any node)."""
    return _row(await conn.fetchrow(
        f"UPDATE data_exports SET status = 'running', attempts = attempts + 1, started_at = now(),"
        f" heartbeat_at = now(), error = NULL"
        f" WHERE id = (SELECT id FROM data_exports WHERE status = 'queued' AND not_before <= now()"
        f"             ORDER BY not_before, created_at, id FOR UPDATE SKIP LOCKED LIMIT 1)"
        f" RETURNING {_COLUMNS}"))


async def beat(conn: asyncpg.Connection, job_id: UUID, attempt: int) -> bool:
    """Still ours and alive; False when the job was taken away."""
    return bool(await conn.fetchval(
        "UPDATE data_exports SET heartbeat_at = now() WHERE id = $1 AND status = 'running' AND attempts = $2"
        " RETURNING true", job_id, attempt))


async def mark_ready(conn: asyncpg.Connection, job_id: UUID, attempt: int, *, storage_key: str, size_bytes: int,
                     manifest: dict[str, Any], retention: int) -> dict[str, Any] | None:
    return _row(await conn.fetchrow(
        f"UPDATE data_exports SET status = 'ready', storage_key = $3, size_bytes = $4, manifest = $5,"
        f" finished_at = now(), expires_at = now() + make_interval(secs => $6), heartbeat_at = NULL"
        f" WHERE id = $1 AND status = 'running' AND attempts = $2 RETURNING {_COLUMNS}",
        job_id, attempt, storage_key, size_bytes, manifest, retention))


_FAIL = ("status = CASE WHEN attempts < $MAX THEN 'queued' ELSE 'failed' END, error = $ERR, heartbeat_at = NULL,"
         " not_before = now() + make_interval(secs => $DELAY * attempts),"
         " finished_at = CASE WHEN attempts < $MAX THEN NULL ELSE now() END")


async def fail(conn: asyncpg.Connection, job_id: UUID, attempt: int, error: str, *, max_attempts: int,
               retry_delay: float) -> dict[str, Any] | None:
    """The attempt failed: queued again (later) while attempts remain, else failed."""
    sets = _FAIL.replace("$MAX", "$4").replace("$ERR", "$3").replace("$DELAY", "$5")
    return _row(await conn.fetchrow(
        f"UPDATE data_exports SET {sets} WHERE id = $1 AND status = 'running' AND attempts = $2 RETURNING {_COLUMNS}",
        job_id, attempt, error, max_attempts, retry_delay))


async def fail_stuck(conn: asyncpg.Connection, *, silent_for: float, error: str, max_attempts: int,
                     retry_delay: float, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs running with no heartbeat for `silent_for` seconds (their worker died): each
    attempt failed, as `fail` decides."""
    sets = _FAIL.replace("$MAX", "$3").replace("$ERR", "$2").replace("$DELAY", "$4")
    rows = await conn.fetch(
        f"UPDATE data_exports SET {sets} WHERE id IN (SELECT id FROM data_exports WHERE status = 'running'"
        f" AND heartbeat_at < now() - make_interval(secs => $1) FOR UPDATE SKIP LOCKED LIMIT $5)"
        f" RETURNING {_COLUMNS}", silent_for, error, max_attempts, retry_delay, limit)
    return [dict(r) for r in rows]


async def requeue(conn: asyncpg.Connection, job_id: UUID, attempt: int) -> bool:
    """Put back a job this node stopped (shutdown); the attempt does not count."""
    return bool(await conn.fetchval(
        "UPDATE data_exports SET status = 'queued', attempts = greatest(attempts - 1, 0), heartbeat_at = NULL"
        " WHERE id = $1 AND status = 'running' AND attempts = $2 RETURNING true", job_id, attempt))


async def list_for_user(conn: asyncpg.Connection, user_id: UUID, limit: int, offset: int
                        ) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM data_exports WHERE user_id = $1"
                            f" ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3", user_id, limit, offset)
    total = await conn.fetchval("SELECT count(*) FROM data_exports WHERE user_id = $1", user_id)
    return [dict(r) for r in rows], total


async def get_for_user(conn: asyncpg.Connection, user_id: UUID, export_id: UUID) -> dict[str, Any]:
    """One of the user's exports; someone else's reads as none."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM data_exports WHERE id = $1 AND user_id = $2",
                              export_id, user_id)
    if row is None:
        raise NotFound("Export not found")
    return dict(row)


async def get(conn: asyncpg.Connection, export_id: UUID) -> dict[str, Any] | None:
    return _row(await conn.fetchrow(f"SELECT {_COLUMNS} FROM data_exports WHERE id = $1", export_id))


async def expire_due(conn: asyncpg.Connection, limit: int) -> list[str]:
    """Ready exports past their retention, now expired; the storage keys to delete."""
    return [r["storage_key"] for r in await conn.fetch(
        "UPDATE data_exports e SET status = 'expired', storage_key = NULL FROM ("
        "  SELECT id, storage_key FROM data_exports WHERE status = 'ready' AND expires_at <= now()"
        "  ORDER BY expires_at FOR UPDATE SKIP LOCKED LIMIT $1) due"
        " WHERE e.id = due.id RETURNING due.storage_key", limit)]

