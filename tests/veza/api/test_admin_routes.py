"""Every admin route, found from the app's router (new ones are covered automatically):
401 without a token, 403 with a plain user's token, 403 with a user's API key."""

from __future__ import annotations

import re
import uuid

from tests.support import ApiClient


def admin_routes(client: ApiClient) -> list[tuple[str, str]]:
    routes = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or ""
        # "*": the 405 of a literal path's other methods (veza/http/edge/unmatched.py), not a route.
        if path.startswith("/api/v1/admin") and route.method not in ("HEAD", "OPTIONS", "*"):
            routes.add((route.method, re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)))
    return sorted(routes)


async def test_every_admin_route_needs_an_admin(client: ApiClient) -> None:
    routes = admin_routes(client)
    assert len(routes) >= 10, routes  # reports, announcements, flags, maintenance, audit at least
    user = await client.register()
    key = (await client.post("/developer/api-keys", user=user, json={"name": "k", "scopes": ["read", "write"]})).data["key"]
    for method, path in routes:
        anonymous = await client.call(method, path, json={})
        assert anonymous.status == 401, (method, path, anonymous.body)
        assert anonymous.body["success"] is False and anonymous.body["code"] == "unauthorized"
        as_user = await client.call(method, path, user=user, json={})
        assert as_user.status == 403, (method, path, as_user.body)
        assert as_user.body["code"] == "forbidden"
        with_key = await client.call(method, path, headers={"X-API-Key": key}, json={})
        assert with_key.status == 403, (method, path, with_key.body)
