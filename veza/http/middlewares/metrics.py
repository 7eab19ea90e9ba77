"""Request counts and latency by route template (not raw path, to bound label cardinality)."""

from __future__ import annotations

from aiohttp import web


def route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return "unmatched" if resource is None else resource.canonical
