#!/usr/bin/env python3
"""The ceiling: a bare aiohttp + asyncpg handler running veza's GET /tracks query.

No middlewares, no auth, no validation beyond int(); msgspec encodes the same shape.

    python bench/peers/bare_aiohttp.py --port 8101 --dsn postgresql://...
"""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg
import msgspec
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LIST_SQL, page, peer_args  # noqa: E402

encoder = msgspec.json.Encoder()
POOL = web.AppKey("pool", asyncpg.Pool)


async def list_tracks(request: web.Request) -> web.Response:
    limit = int(request.query.get("limit", "20"))
    async with request.app[POOL].acquire() as conn:
        rows = await conn.fetch(LIST_SQL, limit + 1, 0)
    return web.Response(body=encoder.encode(page(rows, limit)), content_type="application/json")


def main() -> None:
    args = peer_args()

    async def pool_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        app[POOL] = await asyncpg.create_pool(args.dsn, min_size=2, max_size=args.pool)
        yield
        await app[POOL].close()

    app = web.Application()
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_get("/api/v1/tracks", list_tracks)
    app.router.add_get("/readyz", lambda r: web.Response(text="ok"))
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
