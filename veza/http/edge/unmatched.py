"""The last route of the app: what no other route matched, as aiohttp would answer it
(405 with Allow when some route has the path, else 404), but behind the edge, so in the
envelope, with the headers every answer carries, and where CORS preflights are answered
(also on literal paths, whose other methods are a 405 of their own: `add_catch_all`)."""

from __future__ import annotations

from typing import NoReturn

from aiohttp import web

from veza import keys

# Any path, newlines included: a percent-encoded %0A decodes to one, and `.` would miss it
# (aiohttp's plain-text 404, outside the envelope).
PATH = r"/{unmatched:[\s\S]*}"


def add_catch_all(app: web.Application) -> None:
    """Register after every other route (its resource is the last one tried).

    A literal path also answers, for the methods it lacks, a 405 naming its own methods
    only: `/conversations/public` has GET, and without this a PUT there would fall through
    to `/conversations/{id}` (a 404 for the id "public") and an OPTIONS would report the
    `{id}` route's methods as if they were its own."""
    edge = app[keys.edge]
    literal: dict[str, list[web.PlainResource]] = {}  # one path may have several (GET, then POST later)
    for resource in app.router.resources():
        if isinstance(resource, web.PlainResource):
            literal.setdefault(resource.canonical, []).append(resource)
    for resources in literal.values():
        own = frozenset(route.method for resource in resources for route in resource)
        if own and "*" not in own:  # on the last one: those before it are tried first
            resources[-1].add_route("*", edge.unmatched(_only(own)))
    app.router.add_route("*", PATH, edge.unmatched(not_routed))


def _only(methods: frozenset[str]):  # type: ignore[no-untyped-def]
    async def not_allowed(request: web.Request) -> NoReturn:
        raise web.HTTPMethodNotAllowed(request.method, methods)

    return not_allowed


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
