"""SEC1-04: global and per-IP windows, headers, 429 envelope, exclusions; memory and Redis."""

from __future__ import annotations

import os

import pytest
from aiohttp import web

from tests.support import ApiClient
from veza import keys
from veza.app import create_app
from veza.config import Settings

REDIS_URL = os.environ.get("REDIS_URL")


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("REDIS_URL not set")
    # A long window so the test never straddles two windows.
    return settings.replace(redis_url=REDIS_URL if request.param == "redis" else None,
                            rate_limit_per_ip=5, rate_limit_global=1000, rate_limit_window=30.0,
                            rate_limit_sync_interval=3600.0)  # the tests run the exchanges themselves


async def test_headers_then_429_with_retry_after(client: ApiClient) -> None:
    replies = [await client.get("/announcements/active") for _ in range(5)]
    assert [r.status for r in replies] == [200] * 5
    assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["4", "3", "2", "1", "0"]
    assert all(r.headers["X-RateLimit-Limit"] == "5" for r in replies)
    refused = await client.get("/announcements/active")
    assert refused.status == 429
    assert refused.body["success"] is False and refused.body["code"] == "rate_limited"
    assert refused.body["details"]["scope"] == "ip"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert refused.body["details"]["retry_after_seconds"] == int(refused.headers["Retry-After"])
    assert refused.headers["X-RateLimit-Remaining"] == "0"


async def test_error_responses_carry_the_headers_too(client: ApiClient) -> None:
    reply = await client.get("/users/me")
    assert reply.status == 401 and reply.headers["X-RateLimit-Limit"] == "5"


async def test_health_swagger_metrics_and_auth_are_not_limited(client: ApiClient) -> None:
    for _ in range(7):
        await client.get("/announcements/active")
    for path in ("/health", "/api/v1/health/deep", "/healthz", "/api/v1/metrics", "/swagger"):
        reply = await client.get(path)
        assert reply.status == 200, path
        assert "X-RateLimit-Limit" not in reply.headers, path
    login = await client.post("/auth/login", json={"email": "nobody@example.com", "password": "x"})
    assert login.status == 401


async def test_ips_are_counted_apart_behind_a_trusted_proxy(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = ApiClient(await aiohttp_client(create_app(settings.replace(trusted_proxies=("127.0.0.1",)))))
    for _ in range(5):
        assert (await client.get("/announcements/active", headers={"X-Forwarded-For": "203.0.113.7"})).status == 200
    assert (await client.get("/announcements/active", headers={"X-Forwarded-For": "203.0.113.7"})).status == 429
    assert (await client.get("/announcements/active", headers={"X-Forwarded-For": "203.0.113.8"})).status == 200


async def test_global_limit_applies_across_ips(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.replace(trusted_proxies=("127.0.0.1",), rate_limit_global=4))
    client = ApiClient(await aiohttp_client(app))
    statuses = [(await client.get("/announcements/active", headers={"X-Forwarded-For": f"198.51.100.{i}"})).status
                for i in range(6)]
    assert statuses == [200] * 4 + [429, 429]
    refused = await client.get("/announcements/active", headers={"X-Forwarded-For": "198.51.100.99"})
    assert refused.body["details"]["scope"] == "global"
    assert refused.headers["X-RateLimit-Limit"] == str(refused.body["details"]["limit"]) == "4"


async def test_limits_are_shared_across_nodes_with_redis(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    if settings.redis_url is None:
        pytest.skip("only Redis shares counters between nodes")
    node_a = ApiClient(await aiohttp_client(create_app(settings)))
    node_b = ApiClient(await aiohttp_client(create_app(settings)))
    for _ in range(3):
        assert (await node_a.get("/announcements/active")).status == 200
    # Nodes exchange counts in the background; run one exchange each instead of waiting.
    await node_a.app[keys.rate_windows].sync()
    assert (await node_b.get("/announcements/active")).status == 200
    await node_b.app[keys.rate_windows].sync()
    statuses = [(await node_b.get("/announcements/active")).status for _ in range(2)]
    assert statuses == [200, 429]
    await node_b.app[keys.rate_windows].sync()
    await node_a.app[keys.rate_windows].sync()
    assert (await node_a.get("/announcements/active")).status == 429


async def test_disabled_limiter_adds_nothing(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app: web.Application = create_app(settings.replace(rate_limit_enabled=False))
    client = ApiClient(await aiohttp_client(app))
    for _ in range(7):
        reply = await client.get("/announcements/active")
        assert reply.status == 200 and "X-RateLimit-Limit" not in reply.headers
