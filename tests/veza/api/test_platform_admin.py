"""Feature flags, maintenance mode and the audit trail."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support import PASSWORD, ApiClient
from veza import keys
from veza.app import create_app
from veza.config import Settings
from veza.controls.control_plane import CONTROL_CHANNEL
from veza.controls.state import FlagState, encode_change


async def test_flag_put_list_and_in_memory_read(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    name = f"new-player-{uuid.uuid4().hex[:6]}"
    on = await client.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": True, "description": "v2 player"})
    assert on.status == 200 and on.data["enabled"] is True and on.data["description"] == "v2 player"
    assert client.app[keys.platform_state].is_enabled(name) is True
    off = await client.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": False})
    assert off.data["enabled"] is False and off.data["description"] == "v2 player"
    listed = (await client.get("/admin/feature-flags", user=admin)).data["flags"]
    assert {"name": name, "enabled": False} == {k: v for k, v in next(f for f in listed if f["name"] == name).items()
                                                 if k in ("name", "enabled")}
    assert client.app[keys.platform_state].is_enabled(name) is False


async def test_flag_change_from_another_node_arrives_by_broker(client: ApiClient) -> None:
    import datetime as dt

    name = f"remote-{uuid.uuid4().hex[:6]}"
    change = FlagState(name=name, enabled=True, updated_at=dt.datetime.now(dt.UTC))
    await client.app[keys.broker].publish(CONTROL_CHANNEL, encode_change(change))
    assert client.app[keys.platform_state].is_enabled(name)
    stale = FlagState(name=name, enabled=False, updated_at=change.updated_at - dt.timedelta(seconds=5))
    await client.app[keys.broker].publish(CONTROL_CHANNEL, encode_change(stale))
    assert client.app[keys.platform_state].is_enabled(name), "an older change must not win"


async def test_other_node_catches_up_by_reload(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    fast = settings.replace(platform_refresh_interval=0.05)
    node_a = ApiClient(await aiohttp_client(create_app(fast)))
    node_b = ApiClient(await aiohttp_client(create_app(fast)))
    admin = await node_a.register(role="admin")
    name = f"fleet-{uuid.uuid4().hex[:6]}"
    await node_a.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": True})
    for _ in range(500):  # a 50 ms reload: up to 10 s, for a loaded machine
        if node_b.app[keys.platform_state].is_enabled(name):
            break
        await asyncio.sleep(0.02)
    assert node_b.app[keys.platform_state].is_enabled(name)


async def test_flag_bad_input(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    for path, body, field in (("/admin/feature-flags/Bad Name", {"enabled": True}, "name"),
                              ("/admin/feature-flags/ok", {"enabled": "yes"}, "enabled"),
                              ("/admin/feature-flags/ok", {}, "enabled")):
        reply = await client.put(path, user=admin, json=body)
        assert reply.status == 400 and field in reply.body["details"], reply.body


@pytest.fixture
async def maintenance_off(client: ApiClient):  # type: ignore[no-untyped-def]
    # The test database is shared by the session: never leave maintenance on for others.
    yield
    async with client.app[keys.db].connection() as conn:
        await conn.execute("UPDATE platform_settings SET value = value || '{\"enabled\": false}',"
                           " updated_at = clock_timestamp() WHERE key = 'maintenance'")


async def test_maintenance_mode(client: ApiClient, maintenance_off: None, aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    admin, user = await client.register(role="admin"), await client.register()
    on = await client.put("/admin/maintenance", user=admin, json={"enabled": True, "message": "Upgrading", "retry_after": 120})
    assert on.status == 200 and on.data["enabled"] is True and on.data["retry_after"] == 120
    blocked = await client.get("/users/me", user=user)
    assert blocked.status == 503 and blocked.body["code"] == "unavailable" and blocked.body["error"] == "Upgrading"
    assert blocked.headers["Retry-After"] == "120"
    assert (await client.get("/announcements/active")).status == 503
    assert (await client.get("/health")).status == 200 and (await client.get("/api/v1/readyz")).status == 200
    assert (await client.get("/users/me", user=admin)).status == 200
    assert (await client.get("/admin/maintenance", user=user)).status == 403
    login = await client.post("/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert login.status == 200
    # An admin whose access token expires stays signed in: refresh (and its CSRF token) are open.
    refreshed = await client.post("/auth/refresh", json={"refresh_token": login.data["refresh_token"]})
    assert refreshed.status == 200
    assert (await client.get("/csrf-token")).status == 200
    signed_out = await client.post("/auth/logout", json={"refresh_token": refreshed.data["refresh_token"]})
    assert signed_out.status == 200  # and anyone can sign out
    # Survives a restart: a new node loads it from the database.
    restarted = ApiClient(await aiohttp_client(create_app(settings)))
    assert (await restarted.get("/users/me", user=user)).status == 503
    assert (await restarted.get("/admin/maintenance", user=admin)).data["enabled"] is True
    off = await client.put("/admin/maintenance", user=admin, json={"enabled": False})
    assert off.data["enabled"] is False
    assert (await client.get("/users/me", user=user)).status == 200


async def test_maintenance_bad_input(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    for body, field in (({}, "enabled"), ({"enabled": 1}, "enabled"), ({"enabled": True, "retry_after": 0}, "retry_after"),
                        ({"enabled": True, "message": "  "}, "message")):
        reply = await client.put("/admin/maintenance", user=admin, json=body)
        assert reply.status == 400 and field in reply.body["details"], (body, reply.body)


async def _audit_written(client: ApiClient) -> None:
    """Audit rows are written behind the request: hand the recorder's pending rows to the
    AuditLog actor and wait for its answer, which comes once what it received is written."""
    client.app[keys.edge].controls.audit.flush()
    await client.app[keys.audit_log].ask([], timeout=30)


async def _audit_entries(client: ApiClient, admin, query: str) -> list[dict]:  # type: ignore[no-untyped-def]
    await _audit_written(client)
    return (await client.get(f"/admin/audit?{query}", user=admin)).data["entries"]


async def test_audit_records_writes_behind_the_request(client: ApiClient) -> None:
    admin, user = await client.register(role="admin"), await client.register()
    rid = f"audit-{uuid.uuid4().hex}"
    reply = await client.post("/users/me/privacy/opt-out", user=user, json={"do_not_sell": True},
                              headers={"X-Request-ID": rid})
    assert reply.status == 200
    denied = await client.post("/reports", json={}, headers={"X-Request-ID": rid + "-401"})
    assert denied.status == 401
    entries = await _audit_entries(client, admin, f"user_id={user.id}")
    entry = entries[0]
    assert entry["action"] == "POST" and entry["resource"] == "/api/v1/users/me/privacy/opt-out"
    assert entry["status"] == 200 and entry["request_id"] == rid and entry["ip_address"] == "127.0.0.1"
    assert entry["route"] == "/api/v1/users/me/privacy/opt-out" and entry["via"] == "jwt"
    failed = await _audit_entries(client, admin, "status=401&resource=/api/v1/reports")
    assert any(e["request_id"] == rid + "-401" and e["user_id"] is None for e in failed)
    # GETs and admin paths are not audited (the reference's skipped paths).
    await client.put(f"/admin/feature-flags/audit-{uuid.uuid4().hex[:6]}", user=admin, json={"enabled": True})
    await _audit_written(client)
    assert (await client.get("/admin/audit?resource=/api/v1/admin", user=admin)).data["total"] == 0
    assert (await client.get("/admin/audit?resource=/api/v1/users/me/privacy&action=PUT", user=admin)).data["total"] == 0


async def test_audit_rows_pending_at_shutdown_are_written(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    import asyncpg

    client = ApiClient(await aiohttp_client(create_app(settings)))
    rid = f"audit-last-{uuid.uuid4().hex}"
    reply = await client.post("/reports", json={}, headers={"X-Request-ID": rid})
    assert reply.status == 401
    await client.raw.close()  # at once: the row is still in the recorder's 50 ms batch
    conn = await asyncpg.connect(settings.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE request_id = $1", rid) == 1
    finally:
        await conn.close()


async def test_audit_bad_input(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    for query, field in (("user_id=nope", "user_id"), ("action=GET", "action"), ("limit=0", "limit"),
                         ("status=abc", "status"), ("from=yesterday", "from"), ("to=2026-01-01T00:00:00", "to")):
        reply = await client.get(f"/admin/audit?{query}", user=admin)
        assert reply.status == 400 and field in reply.body["details"], (query, reply.body)


async def test_nul_or_newline_in_flag_name_path_is_400(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    for name in ("evil%00", "evil%0A"):
        reply = await client.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": True})
        assert reply.status == 400 and "name" in reply.body["details"], reply.body
    assert all("\n" not in f["name"] for f in (await client.get("/admin/feature-flags", user=admin)).data["flags"])
