#!/usr/bin/env python3
"""The ceiling: bare aiohttp + asyncpg handlers running veza's queries.

- `GET /api/v1/tracks`: veza's GET /tracks query; no middlewares, no auth, no validation
  beyond int(); msgspec encodes the same shape.
- `GET /api/v1/users/me` (with `--jwt-secret`): the bearer token decoded with veza's
  TokenService, the session read with veza's query (active, the token's user, not banned),
  the user read with veza's query, the profile in the envelope: the same reads as veza's
  route with none of its stack.

The pool is veza's (`veza.db.Database.connect`: jsonb codec, no reset query on release), so
the ceiling pays no round trip veza does not.

    python bench/peers/bare_aiohttp.py --port 8101 --dsn postgresql://... [--jwt-secret S]
"""

from __future__ import annotations

import sys
from pathlib import Path

from uuid import UUID

import asyncpg
import msgspec
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LIST_SQL, page, peer_args  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from veza.db import Database  # noqa: E402
from veza.security.tokens import InvalidToken, TokenService  # noqa: E402
from veza.store import sessions, users  # noqa: E402

encoder = msgspec.json.Encoder()
POOL = web.AppKey("pool", asyncpg.Pool)
TOKENS = web.AppKey("tokens", TokenService)
PROFILE = ("id", "username", "email", "role", "bio", "avatar_url", "created_at", "updated_at")


async def list_tracks(request: web.Request) -> web.Response:
    limit = int(request.query.get("limit", "20"))
    async with request.app[POOL].acquire() as conn:
        rows = await conn.fetch(LIST_SQL, limit + 1, 0)
    return web.Response(body=encoder.encode(page(rows, limit)), content_type="application/json")


def _unauthorized() -> web.Response:
    return web.Response(status=401, body=b'{"success":false,"error":"unauthorized"}', content_type="application/json")


async def me(request: web.Request) -> web.Response:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return _unauthorized()
    try:
        claims = request.app[TOKENS].decode(auth[7:], "access")
        user_id, session_id = UUID(claims["sub"]), UUID(claims["sid"])
    except (InvalidToken, KeyError, ValueError):
        return _unauthorized()
    pool = request.app[POOL]
    state = await sessions.state(pool, session_id)
    if state is None or state.user_id != user_id or not state.active or state.is_banned:
        return _unauthorized()
    async with pool.acquire() as conn:
        user = await users.get_user(conn, user_id)
    return web.Response(body=encoder.encode({"success": True, "data": {f: user[f] for f in PROFILE}}),
                        content_type="application/json")


def main() -> None:
    args = peer_args()

    async def pool_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        db = await Database.connect(args.dsn, min_size=2, max_size=args.pool)
        app[POOL] = db.pool
        yield
        await db.close()

    app = web.Application()
    app.cleanup_ctx.append(pool_ctx)
    if args.jwt_secret:
        app[TOKENS] = TokenService(args.jwt_secret, access_ttl=900, refresh_ttl=3600, chat_ttl=300)
        app.router.add_get("/api/v1/users/me", me)
    app.router.add_get("/api/v1/tracks", list_tracks)
    app.router.add_get("/readyz", lambda r: web.Response(text="ok"))
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
