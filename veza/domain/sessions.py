"""Session rules: opening one at login (with the per-user cap; a suspended account opens
none), refreshing it (rotation, the two-tabs grace, reuse detection), logging one out
(only the caller's own), between the auth handlers and the stores."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from veza.domain.errors import Forbidden, NotFound, Unauthorized
from veza.security.tokens import InvalidToken, TokenService, hash_token, uuid_claim
from veza.session_events import SessionEvents
from veza.store import sessions, users


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID
    # Older sessions this one pushed over SESSIONS_MAX_PER_USER: announce them after commit.
    revoked: tuple[uuid.UUID, ...] = ()


SUSPENDED = "Account suspended"


def check_may_sign_in(is_banned: bool) -> None:
    """A banned account signs in no more, and its sessions and API keys are honoured no
    more (at sign-in it is checked once the password is right, so a 403 never tells a
    stranger that an address is registered)."""
    if is_banned:
        raise Forbidden(SUSPENDED)


async def log_out(conn: Any, user_id: uuid.UUID, session_id: uuid.UUID | None) -> uuid.UUID:
    """Revoke `session_id` of `user_id`'s (None: the caller has no session, an API key);
    another user's session is as unknown as a missing one (404). The id revoked."""
    if session_id is None or not await sessions.revoke_session(conn, session_id, reason="logout", user_id=user_id):
        raise NotFound("Session not found")
    return session_id


async def open_session(conn: asyncpg.Connection, tokens: TokenService, user: dict[str, Any], *,
                       user_agent: str, ip_address: str, max_sessions: int | None = None) -> TokenPair:
    """A new session (call in a transaction); past `max_sessions` live ones the oldest end."""
    session_id = uuid.uuid4()
    refresh = tokens.issue_refresh(user["id"], session_id)
    await sessions.create_session(conn, session_id=session_id, user_id=user["id"], refresh_hash=hash_token(refresh.token),
                                  user_agent=user_agent, ip_address=ip_address, ttl_seconds=tokens.refresh_ttl)
    revoked = await sessions.cap(conn, user["id"], max_sessions) if max_sessions is not None else []
    access = tokens.issue_access(user["id"], user["role"], session_id)
    return TokenPair(access.token, refresh.token, access.expires_in, session_id, tuple(revoked))


def decode_refresh(tokens: TokenService, refresh_token: str) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        claims = tokens.decode(refresh_token, "refresh")
        return uuid_claim(claims, "sub"), uuid_claim(claims, "sid")
    except InvalidToken:
        raise Unauthorized("Invalid or expired refresh token") from None


async def refresh_session(conn: asyncpg.Connection, tokens: TokenService, refresh_token: str, *, grace: float,
                          events: SessionEvents, expected_user: uuid.UUID | None = None) -> tuple[TokenPair, dict[str, Any]]:
    """Rotate `refresh_token` into a new pair.

    Two tabs refreshing at once present the same token; the second finds it just replaced.
    Within `grace` seconds of that rotation it gets the very pair the first got (derived
    again: the rotation's tokens are a pure function of the token rotated and the second
    it happened, see `TokenService.successor_jti`), so neither tab is logged out. Any other
    spent token, or that one after the grace, is reuse: the session is revoked.
    """
    user_id, session_id = decode_refresh(tokens, refresh_token)
    if expected_user is not None and user_id != expected_user:
        raise Unauthorized("Refresh token belongs to another user")
    now = int(time.time())
    successor = tokens.issue_refresh(user_id, session_id, at=now, jti=tokens.successor_jti(refresh_token, "refresh"))
    result = await sessions.rotate_refresh(conn, session_id, user_id, hash_token(refresh_token),
                                           hash_token(successor.token), tokens.refresh_ttl, now)
    status = result.status
    if status == "previous":  # just replaced: the same pair again within the grace, else reuse
        status = "stale"
        if result.rotated_at is not None and now - result.rotated_at < grace:
            successor = tokens.issue_refresh(user_id, session_id, at=result.rotated_at,
                                             jti=tokens.successor_jti(refresh_token, "refresh"))
            if hash_token(successor.token) == result.current_hash:  # what this very token rotated into
                status = "again"
    if status == "stale":
        await sessions.revoke_session(conn, session_id, reason="refresh_token_reuse")
        await events.revoked(user_id, [session_id])
        raise Unauthorized("Refresh token was already used; the session has been revoked")
    if status not in ("rotated", "again"):
        raise Unauthorized("Session is no longer active")
    user = await users.get_user(conn, user_id)
    if user["is_banned"]:
        await sessions.revoke_session(conn, session_id, reason="banned")
        await events.revoked(user_id, [session_id])
        raise Unauthorized(SUSPENDED)
    access = tokens.issue_access(user_id, user["role"], session_id, at=result.rotated_at,
                                 jti=tokens.successor_jti(refresh_token, "access"))
    return TokenPair(access.token, successor.token, access.expires_in, session_id), user
