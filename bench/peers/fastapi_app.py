#!/usr/bin/env python3
"""What a user would pick instead: FastAPI + uvicorn + asyncpg running veza's GET /tracks query.

Idiomatic FastAPI: a validated `limit` query parameter, a lifespan-owned pool, the dict
returned and encoded by FastAPI's default JSON response.

    python bench/peers/fastapi_app.py --port 8102 --dsn postgresql://...
"""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import uvicorn
from fastapi import FastAPI, Query, Request

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LIST_SQL, page, peer_args  # noqa: E402


def build(dsn: str, pool_size: int) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        app.state.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=pool_size)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/v1/tracks")
    async def list_tracks(request: Request, limit: int = Query(20, ge=1, le=100)) -> dict:  # type: ignore[type-arg]
        async with request.app.state.pool.acquire() as conn:
            rows = await conn.fetch(LIST_SQL, limit + 1, 0)
        return page(rows, limit)

    @app.get("/readyz")
    async def ready() -> str:
        return "ok"

    return app


def main() -> None:
    args = peer_args()
    uvicorn.run(build(args.dsn, args.pool), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
