"""Health, deep health, liveness, readiness, Prometheus metrics and the legacy root aliases."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.support import ApiClient
from veza import keys
from veza.health import CheckResult


async def test_health_matches_reference(client: ApiClient) -> None:
    reply = await client.get("/health")
    assert reply.status == 200
    assert reply.body == {"success": True, "data": {"status": "ok"}}


async def test_health_deep_matches_reference_shape(client: ApiClient) -> None:
    reply = await client.get("/health/deep")
    assert reply.status == 200
    data = reply.data
    assert data["status"] == "healthy"
    stamp = dt.datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))
    assert data["timestamp"].endswith("Z") and abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=5)
    assert data["checks"]["database"] == {"status": "ok"}
    disk = data["checks"]["disk"]
    assert disk["status"] == "ok" and isinstance(disk["details"]["free_gb"], float) and disk["details"]["free_gb"] > 0
    config = data["config"]
    assert config["jwt_secret_set"] is True
    assert config["app_env"] == "test"
    assert isinstance(config["redis_configured"], bool)


async def test_health_deep_says_when_the_jwt_secret_is_generated(aiohttp_client, settings) -> None:  # type: ignore[no-untyped-def]
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(settings.replace(jwt_secret=None))))
    reply = await client.get("/health/deep")
    assert reply.data["config"]["jwt_secret_set"] is False
    assert (settings.data_dir / "jwt_secret").exists()  # the generated dev secret is kept


async def test_health_deep_is_503_when_a_critical_check_fails(client: ApiClient) -> None:
    async def broken() -> CheckResult:
        raise ConnectionError("refused")

    client.app[keys.health_checks].add("ledger", broken, critical=True)
    reply = await client.get("/health/deep")
    assert reply.status == 503
    # Still the envelope: a health report is data, with the failing check named.
    assert reply.body["success"] is True
    assert reply.data["status"] == "unhealthy"
    assert reply.data["checks"]["ledger"] == {"status": "error", "error": "ConnectionError"}
    assert reply.data["checks"]["database"]["status"] == "ok"


async def test_readyz_ready(client: ApiClient) -> None:
    reply = await client.get("/readyz")
    assert reply.status == 200 and reply.data["status"] == "ready"
    assert reply.data["checks"]["database"]["status"] == "ok"


async def test_readyz_degraded_when_a_non_critical_check_fails(client: ApiClient) -> None:
    async def flaky() -> CheckResult:
        return CheckResult("error", error="connection lost")

    client.app[keys.health_checks].add("cache", flaky, critical=False)
    reply = await client.get("/readyz")
    assert reply.status == 200 and reply.data["status"] == "degraded"
    assert (await client.get("/health/deep")).data["status"] == "degraded"


async def test_readyz_not_ready_when_a_critical_check_fails_or_times_out(client: ApiClient) -> None:
    import asyncio

    async def hangs() -> CheckResult:
        await asyncio.sleep(30)
        return CheckResult("ok")

    client.app[keys.health_checks].add("slow_db", hangs, critical=True)
    reply = await client.get("/readyz")
    assert reply.status == 503 and reply.data["status"] == "not_ready"
    assert reply.data["checks"]["slow_db"] == {"status": "error", "error": "timed out"}


async def test_readyz_not_ready_while_shutting_down(client: ApiClient) -> None:
    client.app[keys.shutting_down]["value"] = True
    reply = await client.get("/readyz")
    assert reply.status == 503 and reply.data["status"] == "not_ready"
    # Liveness is unaffected: the process is alive, just leaving.
    assert (await client.get("/healthz")).status == 200


async def test_healthz(client: ApiClient) -> None:
    reply = await client.get("/healthz")
    assert reply.status == 200 and reply.data == {"status": "alive"}


async def test_legacy_root_aliases_answer_like_the_api(client: ApiClient) -> None:
    for path in ("/health", "/health/deep", "/healthz", "/readyz"):
        async with client.raw.get(path) as resp:
            assert resp.status == 200, path
            legacy = await resp.json()
        modern = await client.get(path)
        assert legacy["success"] is True and legacy["data"]["status"] == modern.data["status"], path
    async with client.raw.get("/metrics") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")


def _samples(text: str, name: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


async def test_metrics_is_prometheus_text_with_counts_by_route(client: ApiClient) -> None:
    for _ in range(3):
        await client.get("/health")
    await client.get("/no/such/route")
    await client.get("/users/me")  # 401
    reply = await client.get("/metrics")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=")
    text = reply.body.decode()
    counts = {(s.labels["method"], s.labels["route"], s.labels["status"]): s.value
              for s in _samples(text, "veza_http_requests_total")}
    assert counts[("GET", "/api/v1/health", "200")] == 3
    assert counts[("GET", "/api/v1/users/me", "401")] == 1
    # Unknown paths share one label, so scanners cannot blow up the series count.
    assert counts[("GET", "unmatched", "404")] == 1
    buckets = _samples(text, "veza_http_request_duration_seconds_count")
    assert any(s.labels["route"] == "/api/v1/health" and s.value == 3 for s in buckets)
    assert _samples(text, "veza_websockets_open")[0].value == 0


async def test_metrics_label_routes_by_template_not_raw_path(aiohttp_client, app: web.Application) -> None:  # type: ignore[no-untyped-def]
    from veza.http.envelope import ok
    from veza.http.routing import ApiRouter, path_uuid

    router = ApiRouter("probe")

    @router.get("/probe/{id}")
    async def probe(request: web.Request) -> web.Response:
        return ok({"id": str(path_uuid(request))})

    router.add_to(app)
    client = ApiClient(await aiohttp_client(app))
    for _ in range(4):
        await client.get("/probe/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12)
    await client.get("/probe/not-a-uuid")
    text = (await client.get("/metrics")).body.decode()
    routes = {s.labels["route"] for s in _samples(text, "veza_http_requests_total")}
    assert "/api/v1/probe/{id}" in routes
    assert not any("0000" in r or "not-a-uuid" in r for r in routes)
