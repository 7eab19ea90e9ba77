"""A directory of static files served behind the edge.

`app.router.add_static` registers aiohttp's own resource, whose answers would skip the edge
(no security headers, request id or rate limit) and whose misses are not in the envelope.
So the route here is an ordinary one: the file is looked up in a worker thread (the
filesystem must not block the loop), anything outside the directory or not a regular file
is a 404 in the envelope, and `web.FileResponse` does the serving (ranges, ETag and
If-Modified-Since, sendfile).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from veza import keys
from veza.http.errors import NotFound


def locate(root: Path, name: str) -> Path | None:
    """The regular file `name` under `root` (resolved: `..` and symlinks may not leave it)."""
    try:
        path = (root / name).resolve()
        path.relative_to(root)
        return path if path.is_file() else None
    except (ValueError, OSError, RuntimeError):  # outside the root, a NUL byte, a symlink loop
        return None


def add_static_files(app: web.Application, prefix: str, directory: Path) -> None:
    root = directory.resolve()

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = await asyncio.to_thread(locate, root, name)
        if path is None:
            raise NotFound(f"No file {name!r} under {prefix}")
        return web.FileResponse(path)

    app[keys.edge].add_get(app.router, prefix + "/{name:.+}", serve)
