"""Known feature flags at work: off, their routes answer 503 `feature_disabled` to all but
admins, on every node; marketplace routes are closed by prefix, webhooks never."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp import web

from tests.db import TestDatabase
from tests.support import ApiClient
from tests.veza.api.track_helpers import upload
from veza import keys
from veza.api.schemas import Message
from veza.app import create_app
from veza.config import Settings
from veza.controls.features import KNOWN
from veza.http.envelope import ok
from veza.http.routing import ApiRouter


@pytest.fixture(autouse=True)
async def known_flags_back_to_default(test_database: TestDatabase) -> AsyncIterator[None]:
    """The session's database is shared by every test: no known flag stays off after this one."""
    yield
    conn = await asyncpg.connect(test_database.dsn)
    try:
        await conn.execute("DELETE FROM feature_flags WHERE name = ANY($1::text[])", list(KNOWN))
    finally:
        await conn.close()


def _closed(reply, name: str) -> None:  # type: ignore[no-untyped-def]
    assert reply.status == 503, reply.body
    assert reply.body["code"] == "feature_disabled" and reply.body["details"] == {"feature": name}, reply.body


async def _set(client: ApiClient, admin, name: str, enabled: bool) -> None:  # type: ignore[no-untyped-def]
    reply = await client.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": enabled})
    assert reply.status == 200 and reply.data["enabled"] is enabled


def _register_body() -> dict[str, str]:
    name = f"user_{uuid.uuid4().hex[:10]}"
    return {"username": name, "email": f"{name}@example.com", "password": "SecureP@ssw0rd"}


async def test_registrations_off_refuses_new_accounts_but_not_logins(client: ApiClient) -> None:
    admin, user = await client.register(role="admin"), await client.register()
    await _set(client, admin, "registrations", False)
    _closed(await client.post("/auth/register", json=_register_body()), "registrations")
    login = await client.post("/auth/login", json={"email": user.email, "password": "SecureP@ssw0rd"})
    assert login.status == 200
    await _set(client, admin, "registrations", True)
    assert (await client.post("/auth/register", json=_register_body())).status == 201


async def test_uploads_off_refuses_track_uploads_to_all_but_admins(client: ApiClient) -> None:
    admin, creator = await client.register(role="admin"), await client.register(role="creator")
    await _set(client, admin, "uploads", False)
    _closed(await upload(client, creator), "uploads")
    assert (await upload(client, admin)).status == 201  # admins excepted
    assert (await client.get("/tracks")).status == 200  # browsing is not an upload
    await _set(client, admin, "uploads", True)
    assert (await upload(client, creator)).status == 201


async def test_chat_and_live_off_close_their_routes(client: ApiClient) -> None:
    admin, user = await client.register(role="admin"), await client.register()
    await _set(client, admin, "chat", False)
    await _set(client, admin, "live", False)
    for path in ("/conversations", "/conversations/public", "/live/streams", "/live/streams/me"):
        _closed(await client.get(path, user=user), "chat" if "/live" not in path else "live")
    _closed(await client.get("/live/streams"), "live")  # anonymous too
    _closed(await client.post("/conversations", user=user, json={"name": "room"}), "chat")
    assert (await client.get("/conversations", user=admin)).status == 200
    assert (await client.get("/chat/token", user=user)).status == 200  # the socket carries more than chat
    assert (await client.get("/social/feed", user=user)).status == 200  # other features untouched
    await _set(client, admin, "chat", True)
    assert (await client.get("/conversations", user=user)).status == 200
    _closed(await client.get("/live/streams", user=user), "live")


def _future_routes() -> ApiRouter:
    """Routes as the marketplace work will add them, and a payment webhook."""
    router = ApiRouter("marketplace")

    @router.get("/marketplace/ping", response=Message, summary="test route")
    async def market_ping(request: web.Request) -> web.Response:
        return ok(Message(message="market"))

    @router.post("/sell/ping", response=Message, auth="required", summary="test route")
    async def sell_ping(request: web.Request, principal) -> web.Response:  # type: ignore[no-untyped-def]
        return ok(Message(message="sell"))

    @router.post("/webhooks/ping", response=Message, summary="test route")
    async def webhook_ping(request: web.Request) -> web.Response:
        return ok(Message(message="webhook"))

    return router


@pytest.fixture
def app(settings: Settings) -> web.Application:
    app = create_app(settings)
    # Routes registered after the catch-all still resolve first by their literal path.
    _future_routes().add_to(app)
    return app


async def test_marketplace_routes_are_closed_by_prefix_and_webhooks_never(client: ApiClient) -> None:
    admin, user = await client.register(role="admin"), await client.register()
    assert (await client.get("/marketplace/ping")).status == 200
    await _set(client, admin, "marketplace", False)
    _closed(await client.get("/marketplace/ping"), "marketplace")
    _closed(await client.post("/sell/ping", user=user), "marketplace")
    assert (await client.post("/webhooks/ping")).status == 200
    assert (await client.get("/marketplace/ping", user=admin)).status == 200


async def test_a_flag_turned_off_on_one_node_closes_the_routes_of_another(aiohttp_client,  # type: ignore[no-untyped-def]
                                                                          settings: Settings) -> None:
    node_a = ApiClient(await aiohttp_client(create_app(settings)))
    node_b = ApiClient(await aiohttp_client(create_app(settings.replace(platform_refresh_interval=0.05))))
    admin = await node_a.register(role="admin")
    await _set(node_a, admin, "registrations", False)
    reply = None
    for _ in range(500):  # the broker event, or else the 50 ms reload: up to 10 s on a loaded machine
        reply = await node_b.post("/auth/register", json=_register_body())
        if reply.status == 503:
            break
        await asyncio.sleep(0.02)
    assert reply is not None
    _closed(reply, "registrations")


async def test_known_flags_are_listed_and_keep_their_description_once_set(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    listed = {f["name"]: f for f in (await client.get("/admin/feature-flags", user=admin)).data["flags"]}
    assert set(KNOWN) <= set(listed)
    assert all(listed[name]["enabled"] is True for name in KNOWN)
    assert listed["live"]["updated_at"] is None and listed["live"]["description"] == KNOWN["live"].description
    await _set(client, admin, "live", False)
    listed = {f["name"]: f for f in (await client.get("/admin/feature-flags", user=admin)).data["flags"]}
    assert listed["live"]["enabled"] is False and listed["live"]["updated_at"] is not None
    assert listed["live"]["description"] == KNOWN["live"].description
