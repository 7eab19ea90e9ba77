"""GET /status and POST /validate."""

from __future__ import annotations

import socket

import pytest

from tests.support import ApiClient
from veza.app import create_app
from veza.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(validate_rate_limit=12)


async def test_status_reports_each_component_honestly(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as listener:  # a stand-in media server port, then a closed one
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = ApiClient(await aiohttp_client(create_app(settings.replace(live_rtmp_url=f"rtmp://127.0.0.1:{port}/live"))))
        ws = await client.ws()
        reply = await client.get("/status")
        await ws.close()
    assert reply.status == 200
    components = reply.data["components"]
    assert components["database"]["status"] == "ok"
    redis_configured = settings.redis_url is not None
    assert components["redis"]["status"] == ("ok" if redis_configured else "not_configured")
    assert components["broker"]["status"] == "ok" and components["broker"]["kind"]
    assert components["chat"] == {"status": "ok", "connections": 1}
    assert components["stream_ingest"]["status"] == "ok" and components["stream_ingest"]["whip"] == "ok"
    down = ApiClient(await aiohttp_client(create_app(settings.replace(live_rtmp_url=f"rtmp://127.0.0.1:{port}/live"))))
    degraded = (await down.get("/status")).data
    assert degraded["components"]["stream_ingest"]["status"] == "unreachable"
    assert degraded["status"] == "degraded"


async def test_validate_each_type(client: ApiClient) -> None:
    user = await client.register()
    cases = [
        ({"type": "email", "value": "a@b.co"}, True),
        ({"type": "email", "value": "not-an-email"}, False),
        ({"type": "username", "value": "good_name"}, True),
        ({"type": "username", "value": "x"}, False),
        ({"type": "password", "value": "weak"}, False),
        ({"type": "username_available", "value": user.username.upper()}, False),
        ({"type": "email_available", "value": "fresh-" + user.email}, True),
    ]
    for body, valid in cases:
        reply = await client.post("/validate", json=body)
        assert reply.status == 200, reply.body
        assert reply.data["valid"] is valid, (body, reply.data)
        assert bool(reply.data["errors"]) is (not valid)
    strong = (await client.post("/validate", json={"type": "password", "value": "Sup3r-Secret-Phrase!"})).data
    assert strong["valid"] and strong["strength"] == "strong"
    weak = (await client.post("/validate", json={"type": "password", "value": "alllowercase"})).data
    assert weak["strength"] == "weak" and any("uppercase" in e for e in weak["errors"])
    taken = (await client.post("/validate", json={"type": "username_available", "value": user.username})).data
    assert taken["available"] is False and taken["errors"] == ["already taken"]


async def test_validate_bad_input_and_rate_limit(client: ApiClient) -> None:
    for body, field in (({"type": "phone", "value": "1"}, "type"), ({"type": "email"}, "value"),
                        ({"type": "email", "value": 5}, "value"), ({"type": "email", "value": "x" * 600}, "value")):
        reply = await client.post("/validate", json=body)
        assert reply.status == 400 and field in reply.body["details"], (body, reply.body)
    # Bad input is refused before the limiter counts; well-formed calls are counted.
    statuses = [(await client.post("/validate", json={"type": "email", "value": "a@b.co"})).status for _ in range(14)]
    assert statuses == [200] * 12 + [429] * 2
    refused = await client.post("/validate", json={"type": "email", "value": "a@b.co"})
    assert refused.body["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
