"""Registration, login, refresh and logout (the Authentication section of the reference)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.http.auth import Principal
from veza.http.client_info import client_ip, user_agent
from veza.http.envelope import ok
from veza.http.errors import BadRequest, Unauthorized
from veza.http.routing import ApiRouter
from veza.security.csrf import header_authenticated
from veza.domain.sessions import TokenPair, check_may_sign_in, decode_refresh, open_session, refresh_session
from veza.store import sessions, users
from veza.validation import (EMAIL_SCHEMA, PASSWORD_SCHEMA, USERNAME_SCHEMA, documented, email_problems,
                             password_problems, username_problems)

router = ApiRouter("auth")

REFRESH_COOKIE = "refresh_token"
INVALID_CREDENTIALS = "Invalid email or password"



class RegisterIn(msgspec.Struct, forbid_unknown_fields=False):
    # The documented rules are veza.validation's, which `register` applies (every broken one in `details`).
    username: Annotated[str, msgspec.Meta(max_length=64, extra_json_schema=documented(USERNAME_SCHEMA))]
    email: Annotated[str, msgspec.Meta(max_length=254, extra_json_schema=documented(EMAIL_SCHEMA))]
    password: Annotated[str, msgspec.Meta(max_length=256, extra_json_schema=documented(PASSWORD_SCHEMA))]
    # The roles an account may choose for itself ("creator" to sell and stream); "admin" is
    # only granted by an admin (PUT /admin/users/:id/role) or `veza create-admin`.
    role: Literal["user", "creator"] = "user"


class AuthUser(msgspec.Struct):
    id: UUID
    username: str
    email: str
    role: str


class LoginIn(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=256)]


class RefreshIn(msgspec.Struct):
    refresh_token: Annotated[str, msgspec.Meta(max_length=4096)] | None = None


class AuthOut(msgspec.Struct):
    user: AuthUser
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


class LogoutOut(msgspec.Struct):
    message: str


def auth_response(request: web.Request, pair: TokenPair, user: dict, *, status: int = 200) -> web.Response:
    body = AuthOut(user=AuthUser(**{f: user[f] for f in AuthUser.__struct_fields__}), access_token=pair.access_token,
                   refresh_token=pair.refresh_token, expires_in=pair.expires_in)
    response = ok(body, status=status)
    settings = request.app[keys.settings]
    response.set_cookie(REFRESH_COOKIE, pair.refresh_token, max_age=settings.refresh_token_ttl, path="/api/v1",
                        httponly=True, samesite="Strict", secure=settings.production)
    return response


def refresh_rules(request: web.Request) -> dict[str, Any]:
    """What a refresh needs besides its token: the reuse grace and who hears of a revocation."""
    return {"grace": request.app[keys.settings].refresh_reuse_grace, "events": request.app[keys.session_events]}


def presented_refresh_token(request: web.Request, body: RefreshIn) -> str | None:
    if body.refresh_token:
        return body.refresh_token
    cookie = request.cookies.get(REFRESH_COOKIE)
    # A browser sends the cookie on its own, so a cookie-only request needs a CSRF token.
    if cookie and not header_authenticated(request):
        request.app[keys.csrf].require(request)
    return cookie


@router.post("/auth/register", body=RegisterIn, response=AuthOut, status=201, errors=(409, 429),
             summary="Register a new user")
async def register(request: web.Request, body: RegisterIn) -> web.Response:
    problems = {field: msgs for field, msgs in (
        ("username", username_problems(body.username)),
        ("email", email_problems(body.email)),
        ("password", password_problems(body.password)),
    ) if msgs}
    if problems:
        first_field, first = next(iter(problems.items()))
        raise BadRequest(f"Invalid {first_field}: {first[0]}", details={k: "; ".join(v) for k, v in problems.items()})
    await request.app[keys.login_guard].registration(client_ip(request))  # before the costly hash
    password_hash = await request.app[keys.passwords].hash(body.password)
    async with request.app[keys.db].transaction() as conn:
        # The unique indexes decide concurrent registrations: exactly one wins, others get 409.
        user = await users.create_user(conn, username=body.username, email=body.email.strip(), password_hash=password_hash,
                                       role=body.role)
        pair = await open_session(conn, request.app[keys.tokens], user,
                                  user_agent=user_agent(request), ip_address=client_ip(request))
    return auth_response(request, pair, user, status=201)


@router.post("/auth/login", body=LoginIn, response=AuthOut, errors=(
    (401, "Wrong email or password"), (403, "Account suspended"),
    (429, "Too many failed logins for this account or address: see Retry-After")),
             summary="Login with email and password")
async def login(request: web.Request, body: LoginIn) -> web.Response:
    db = request.app[keys.db]
    guard, ip = request.app[keys.login_guard], client_ip(request)
    await guard.attempt(body.email, ip)
    async with db.connection() as conn:
        user = await users.find_login(conn, body.email.strip())
    hasher = request.app[keys.passwords]
    # Unknown email and wrong password cost the same time and read the same.
    if not await hasher.verify(user["password_hash"] if user else None, body.password):
        raise Unauthorized(INVALID_CREDENTIALS)  # the guard counted it already
    await guard.succeeded(body.email, ip)
    assert user is not None
    check_may_sign_in(user["is_banned"])
    async with db.transaction() as conn:
        if hasher.needs_rehash(user["password_hash"]):
            await users.update_password_hash(conn, user["id"], await hasher.hash(body.password))
        pair = await open_session(conn, request.app[keys.tokens], user, user_agent=user_agent(request),
                                  ip_address=client_ip(request),
                                  max_sessions=request.app[keys.settings].sessions_max_per_user)
    if pair.revoked:  # the oldest sessions made room: their sockets close too
        await request.app[keys.session_events].revoked(user["id"], list(pair.revoked))
    return auth_response(request, pair, user)


@router.post("/auth/refresh", body=RefreshIn, body_optional=True, response=AuthOut,
             errors=((401, "No refresh token, or an expired, revoked or reused one"),
                     (403, "A cookie-only refresh without its CSRF token")),
             summary="Rotate the refresh token for a new access token")
async def refresh(request: web.Request, body: RefreshIn) -> web.Response:
    token = presented_refresh_token(request, body)
    if not token:
        raise Unauthorized("Refresh token required (body or cookie)")
    # Autocommit, not one transaction: a detected reuse must stay revoked after the 401.
    async with request.app[keys.db].connection() as conn:
        pair, user = await refresh_session(conn, request.app[keys.tokens], token, **refresh_rules(request))
    return auth_response(request, pair, user)


@router.post("/auth/logout", body=RefreshIn, body_optional=True, response=LogoutOut, auth="optional",
             errors=((403, "A cookie-only logout without its CSRF token"),),
             summary="Logout and invalidate the refresh token")
async def logout(request: web.Request, body: RefreshIn, principal: Principal | None) -> web.Response:
    user_id, session_id = (principal.user_id, principal.session_id) if principal else (None, None)
    token = presented_refresh_token(request, body) if session_id is None else None
    if token:
        try:
            user_id, session_id = decode_refresh(request.app[keys.tokens], token)
        except Unauthorized:  # expired or garbage: nothing to revoke, but the cookie still goes
            pass
    if user_id is not None and session_id is not None:
        async with request.app[keys.db].connection() as conn:
            await sessions.revoke_session(conn, session_id, reason="logout")
        await request.app[keys.session_events].revoked(user_id, [session_id])
    response = ok(LogoutOut(message="Logged out"))
    response.del_cookie(REFRESH_COOKIE, path="/api/v1")
    return response
