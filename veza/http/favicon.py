"""`/favicon.ico`, which browsers ask for on every page: the icon under static/, behind
the edge like every answer, cached for a day (a missing one is a console error per page)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from veza import keys

PATH = "/favicon.ico"
CACHE_CONTROL = "public, max-age=86400"


def add_favicon(app: web.Application, static_dir: Path) -> None:
    """GET and HEAD /favicon.ico (register before the catch-all); nothing if the file is absent."""
    icon = static_dir / "favicon.ico"
    if not icon.is_file():
        return

    async def favicon(request: web.Request) -> web.StreamResponse:
        # FileResponse reads in a thread, and answers HEAD, ranges and conditional requests.
        return web.FileResponse(icon, headers={"Cache-Control": CACHE_CONTROL})

    app[keys.edge].add_get(app.router, PATH, favicon)
