"""Sessions: one per device login, with a rotating, hashed refresh token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg


@dataclass(frozen=True, slots=True)
class RotateResult:
    # "rotated": the presented hash was current and is replaced; "previous": it is the one
    # the last rotation replaced (at `rotated_at`, epoch seconds; the current hash is
    # `current_hash`); "stale": older than that; "revoked": the session is over; "missing".
    status: str
    user_id: UUID | None = None
    rotated_at: int | None = None
    current_hash: str | None = None


async def create_session(conn: asyncpg.Connection, *, session_id: UUID, user_id: UUID, refresh_hash: str,
                         user_agent: str, ip_address: str, ttl_seconds: int) -> None:
    await conn.execute(
        "INSERT INTO sessions (id, user_id, refresh_token_hash, user_agent, ip_address, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
        session_id, user_id, refresh_hash, user_agent[:512], ip_address[:64], ttl_seconds,
    )


async def rotate_refresh(conn: asyncpg.Connection, session_id: UUID, user_id: UUID, presented_hash: str,
                         new_hash: str, ttl_seconds: int, rotated_at: int) -> RotateResult:
    """Swap the refresh hash if the presented one is current, keeping the one replaced.
    A session of another user than `user_id` (the token's subject) is "missing".

    The conditional UPDATE makes two concurrent uses of one token resolve to exactly one
    winner; the loser then finds its token as the `previous` one (what to do with it is
    the caller's rule: a short grace, then reuse).
    """
    row = await conn.fetchrow(
        "UPDATE sessions SET previous_refresh_hash = refresh_token_hash, refresh_token_hash = $3,"
        " rotated_at = to_timestamp($5), last_used_at = now(), expires_at = now() + make_interval(secs => $4)"
        " WHERE id = $1 AND user_id = $6 AND refresh_token_hash = $2 AND revoked_at IS NULL AND expires_at > now()"
        " RETURNING user_id",
        session_id, presented_hash, new_hash, ttl_seconds, rotated_at, user_id,
    )
    if row is not None:
        return RotateResult("rotated", row["user_id"], rotated_at, new_hash)
    current = await conn.fetchrow(
        "SELECT user_id, revoked_at IS NOT NULL OR expires_at < now() AS over, refresh_token_hash,"
        " previous_refresh_hash = $2 AS previous, extract(epoch FROM rotated_at)::bigint AS rotated_at"
        " FROM sessions WHERE id = $1 AND user_id = $3", session_id, presented_hash, user_id)
    if current is None:
        return RotateResult("missing")
    if current["over"]:
        return RotateResult("revoked", current["user_id"])
    if current["previous"]:
        return RotateResult("previous", current["user_id"], current["rotated_at"], current["refresh_token_hash"])
    return RotateResult("stale", current["user_id"])


@dataclass(frozen=True, slots=True)
class SessionState:
    """What one request needs to know of its session, read in one indexed lookup."""

    user_id: UUID  # the session's owner: a token naming anyone else is not this session's
    active: bool
    stale: bool  # `last_used_at` is over a minute old and wants a `touch`
    role: str  # the owner's role and ban now, not when the token was issued
    is_banned: bool
    username: str


async def state(conn: asyncpg.Connection | asyncpg.Pool, session_id: UUID) -> SessionState | None:
    """The session with its owner's current role and ban (one primary-key join), or None."""
    row = await conn.fetchrow(
        "SELECT s.user_id, s.revoked_at IS NULL AND s.expires_at > now() AS active,"
        " s.last_used_at < now() - interval '60 seconds' AS stale, u.role, u.is_banned, u.username"
        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1", session_id)
    return SessionState(**row) if row else None


async def revoke_session(conn: asyncpg.Connection, session_id: UUID, *, reason: str,
                         user_id: UUID | None = None) -> bool:
    """Revoke one session (of `user_id` when given); True when something was revoked."""
    status = await conn.execute(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2"
        " WHERE id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR user_id = $3)",
        session_id, reason, user_id,
    )
    return not status.endswith(" 0")


async def revoke_all(conn: asyncpg.Connection, user_id: UUID, *, reason: str, except_session: UUID | None = None) -> int:
    status = await conn.execute(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = $2"
        " WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3)",
        user_id, reason, except_session,
    )
    return int(status.rsplit(" ", 1)[-1])


async def cap(conn: asyncpg.Connection, user_id: UUID, keep: int) -> list[UUID]:
    """Revoke the user's oldest live sessions beyond the newest `keep`; their ids.

    Call in the transaction that created the newest one: the per-user lock makes
    concurrent logins count each other (the second waits, then sees the first's session).
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('sessions:' || $1::uuid::text, 0))", user_id)
    rows = await conn.fetch(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'session_limit' WHERE id IN ("
        " SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()"
        " ORDER BY created_at DESC, id DESC OFFSET $2) RETURNING id",
        user_id, keep)
    return [r["id"] for r in rows]


async def list_active(conn: asyncpg.Connection, user_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, user_agent, ip_address, created_at, last_used_at, expires_at FROM sessions"
        " WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY last_used_at DESC",
        user_id,
    )
    return [dict(r) for r in rows]


async def touch(conn: asyncpg.Connection | asyncpg.Pool, session_id: UUID) -> None:
    """Record use, at most once a minute per session, to keep writes off the hot path."""
    await conn.execute(
        "UPDATE sessions SET last_used_at = now() WHERE id = $1 AND last_used_at < now() - interval '60 seconds'",
        session_id,
    )


async def states(conn: asyncpg.Connection | asyncpg.Pool, session_ids: list[UUID]) -> list[asyncpg.Record]:
    """`state` of many sessions in one primary-key lookup, each row with its `id`
    (`veza.cluster.session_reader` batches the socket upgrades of a reconnect storm)."""
    return await conn.fetch(
        "SELECT s.id, s.user_id, s.revoked_at IS NULL AND s.expires_at > now() AS active,"
        " s.last_used_at < now() - interval '60 seconds' AS stale, u.role, u.is_banned, u.username"
        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ANY($1::uuid[])", session_ids)
