"""Bearer JWT authentication: a valid access token of a session that is still active.

A token says who it was issued to; the database says what they may do now. Each request
reads its session joined to its owner in one primary-key lookup (`sessions.state`): the
session must be active and belong to the token's `sub`, and the role and the ban come
from that row, never from the token's claims. So a demotion, a promotion or a ban applies
to the next request, not when the token expires. The WebSocket gateway checks a chat
token the same way (`standing`).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
from aiohttp import web

from veza import keys
from veza.cluster.session_reader import SessionReader
from veza.http.auth import Principal, bearer_token
from veza.domain.sessions import check_may_sign_in
from veza.http.errors import Unauthorized
from veza.security.tokens import InvalidToken, uuid_claim
from veza.store import sessions, users

_BEARER = {"WWW-Authenticate": "Bearer"}


async def standing(pool: asyncpg.Pool, user_id: UUID, session_id: UUID | None,
                   reader: SessionReader | None = None) -> sessions.SessionState:
    """The caller's session and current role; Unauthorized when the session is not theirs or
    is over, Forbidden when the account is banned. `session_id` None (a chat token minted
    with an API key) reads the user alone. With `reader` the session is read with the other
    lookups of the moment (one query for many: `veza.cluster.session_reader`)."""
    if session_id is None:
        row = await users.standing(pool, user_id)
        if row is None:
            raise Unauthorized("Invalid or expired token", headers=_BEARER)
        state = sessions.SessionState(user_id=user_id, active=True, stale=False, **row)
    else:
        found = await reader.state(session_id) if reader is not None else await sessions.state(pool, session_id)
        # A session of another user is no session of this token's `sub`: the same answer
        # as an unknown one, so a forged pairing learns nothing.
        if found is None or found.user_id != user_id or not found.active:
            raise Unauthorized("Session has been revoked", headers=_BEARER)
        state = found
    check_may_sign_in(state.is_banned)
    return state


async def bearer_jwt(request: web.Request) -> Principal | None:
    token = bearer_token(request)
    if token is None:
        return None
    try:
        claims = request.app[keys.tokens].decode(token, "access")
        user_id, session_id = uuid_claim(claims, "sub"), uuid_claim(claims, "sid")
    except InvalidToken:
        raise Unauthorized("Invalid or expired token", headers=_BEARER) from None
    # Logout and logout-all take effect at once: a revoked session's tokens stop working.
    pool = request.app[keys.db].pool
    state = await standing(pool, user_id, session_id, request.app.get(keys.session_reader))
    if state.stale:  # GET /sessions shows "last used"; written at most once a minute per session
        await sessions.touch(pool, session_id)
    return Principal(user_id=user_id, role=state.role, session_id=session_id)
