"""The last route of the app: what no other route matched, as aiohttp would answer it
(405 with Allow when some route has the path, else 404), but behind the edge, so in the
envelope, with the headers every answer carries, and where CORS preflights are answered."""

from __future__ import annotations

from typing import NoReturn

from aiohttp import web

from veza import keys

# Any path, newlines included: a percent-encoded %0A decodes to one, and `.` would miss it
# (aiohttp's plain-text 404, outside the envelope).
PATH = r"/{unmatched:[\s\S]*}"


def add_catch_all(app: web.Application) -> None:
    """Register after every other route (its resource is the last one tried)."""
    app.router.add_route("*", PATH, app[keys.edge].unmatched(not_routed))


async def not_routed(request: web.Request) -> NoReturn:
    # Only misses come here, so asking every resource again is affordable (and the rate
    # limiter bounds how often): the router found the path's methods but keeps no record.
    own = request.match_info.route.resource
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not own:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()
