"""Bearer JWT authentication: a valid access token of a session that is still active."""

from __future__ import annotations

from aiohttp import web

from veza import keys
from veza.http.auth import Principal, bearer_token
from veza.http.errors import Unauthorized
from veza.security.tokens import InvalidToken, uuid_claim
from veza.store import sessions


async def bearer_jwt(request: web.Request) -> Principal | None:
    token = bearer_token(request)
    if token is None:
        return None
    try:
        claims = request.app[keys.tokens].decode(token, "access")
        user_id, session_id = uuid_claim(claims, "sub"), uuid_claim(claims, "sid")
    except InvalidToken:
        raise Unauthorized("Invalid or expired token", headers={"WWW-Authenticate": "Bearer"}) from None
    # Logout and logout-all take effect at once: a revoked session's tokens stop working.
    pool = request.app[keys.db].pool
    active, stale = await sessions.check_active(pool, session_id)
    if not active:
        raise Unauthorized("Session has been revoked", headers={"WWW-Authenticate": "Bearer"})
    if stale:  # GET /sessions shows "last used"; written at most once a minute per session
        await sessions.touch(pool, session_id)
    return Principal(user_id=user_id, role=claims.get("role", "user"), session_id=session_id)
