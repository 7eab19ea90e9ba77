"""Checks that walk every declared route, so routes added later are covered automatically."""

from __future__ import annotations

import re
import uuid

from aiohttp import web

from tests.support import PASSWORD, ApiClient
from veza import keys
from veza.http.routing import RouteSpec

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def declared_routes(app: web.Application) -> list[tuple[str, RouteSpec]]:
    return [(prefix, spec) for prefix, spec in app[keys.openapi]._routes]


def _fill(path: str, value: str) -> str:
    return _PARAM.sub(value, path)


async def test_every_protected_route_refuses_a_missing_token(client: ApiClient) -> None:
    protected = [(p, s) for p, s in declared_routes(client.app) if s.auth == "required"]
    assert protected, "no protected routes declared?"
    for prefix, spec in protected:
        path = _fill(prefix + spec.path, str(uuid.uuid4()))
        reply = await client.call(spec.method, path, json={})
        assert reply.status == 401, (spec.method, path, reply.status, reply.body)
        assert reply.body["success"] is False and reply.body["code"] == "unauthorized"


async def test_every_admin_route_refuses_a_plain_user(client: ApiClient) -> None:
    user = await client.register()
    for prefix, spec in declared_routes(client.app):
        if "admin" not in spec.roles or spec.roles == ("user",):
            continue
        path = _fill(prefix + spec.path, str(uuid.uuid4()))
        reply = await client.call(spec.method, path, json={}, user=user)
        assert reply.status == 403, (spec.method, path, reply.status, reply.body)


async def test_no_route_answers_garbage_with_a_500(client: ApiClient) -> None:
    """Malformed ids, broken JSON, wrong types, odd query strings: always a 4xx envelope."""
    admin = await client.register(role="admin")
    bodies = [b"{", b"[]", b'{"limit": "x", "id": 5, "title": null}', b'"str"', b"\xff\xfe"]
    for prefix, spec in declared_routes(client.app):
        if spec.produces or spec.content_type:
            continue
        # A fresh session per route: some routes (logout-all, ...) revoke the caller's own.
        login = await client.post("/auth/login", json={"email": admin.email, "password": PASSWORD})
        admin.access_token = login.data["access_token"]
        for fill in ("not-a-uuid", str(uuid.uuid4()), "%00", "1" * 300):
            path = _fill(prefix + spec.path, fill)
            for body in bodies:
                reply = await client.call(spec.method, path + "?limit=-5&cursor=%%%&offset=x&page=0",
                                          data=body, user=admin, headers={"Content-Type": "application/json"})
                assert reply.status < 500, (spec.method, path, body, reply.status, reply.body)
                if reply.status >= 400 and isinstance(reply.body, dict):
                    assert reply.body.get("success") is False, (spec.method, path, reply.body)
