"""DEV1 API keys: create (raw once), list, delete; X-API-Key authenticates with scopes."""

from __future__ import annotations

import asyncio
import uuid

from tests.support import ApiClient
from veza import keys


async def _create(client: ApiClient, user, **body) -> dict:  # type: ignore[no-untyped-def]
    reply = await client.post("/developer/api-keys", user=user, json={"name": "ci", **body})
    assert reply.status == 201, reply.body
    return reply.data


async def test_create_returns_raw_key_once_and_list_hides_it(client: ApiClient) -> None:
    user = await client.register()
    created = await _create(client, user, scopes=["read", "write"])
    assert created["key"].startswith("veza_sk_") and created["key"].startswith(created["prefix"])
    assert created["scopes"] == ["read", "write"] and created["last_used_at"] is None
    listed = (await client.get("/developer/api-keys", user=user)).data
    assert listed["total"] == 1
    assert "key" not in listed["api_keys"][0]
    assert listed["api_keys"][0]["prefix"] == created["prefix"]
    async with client.app[keys.db].connection() as conn:
        stored = await conn.fetchval("SELECT key_hash FROM api_keys WHERE id = $1", uuid.UUID(created["id"]))
    assert created["key"] not in stored


async def test_api_key_authenticates_like_bearer_and_records_use(client: ApiClient) -> None:
    user = await client.register()
    created = await _create(client, user)
    me = await client.get("/users/me", headers={"X-API-Key": created["key"]})
    assert me.status == 200 and me.data["id"] == user.id
    await client.get("/users/me", headers={"X-API-Key": created["key"]})
    await client.app[keys.api_key_usage].close()  # wait for the write-behind touch
    listed = (await client.get("/developer/api-keys", user=user)).data["api_keys"][0]
    assert listed["last_used_at"] is not None


async def test_bad_unknown_and_deleted_keys_are_401(client: ApiClient) -> None:
    user = await client.register()
    created = await _create(client, user)
    for bad in ("nope", "veza_sk_" + "x" * 43):
        assert (await client.get("/users/me", headers={"X-API-Key": bad})).status == 401
    deleted = await client.delete(f"/developer/api-keys/{created['id']}", user=user)
    assert deleted.status == 200
    assert (await client.get("/users/me", headers={"X-API-Key": created["key"]})).status == 401


async def test_scopes_limit_what_a_key_can_do(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    read_only = await _create(client, admin, scopes=["read"])
    # Admin routes declare scope "admin": an admin's read-only key cannot use them.
    refused = await client.get("/admin/feature-flags", headers={"X-API-Key": read_only["key"]})
    assert refused.status == 403
    admin_key = await _create(client, admin, scopes=["admin"])
    assert (await client.get("/admin/feature-flags", headers={"X-API-Key": admin_key["key"]})).status == 200
    # Keys cannot mint keys.
    minted = await client.post("/developer/api-keys", json={"name": "x"}, headers={"X-API-Key": admin_key["key"]})
    assert minted.status == 403


async def test_read_keys_only_read_and_write_keys_do_both(client: ApiClient) -> None:
    user = await client.register()
    read, write = (await _create(client, user, scopes=["read"]))["key"], (await _create(client, user, scopes=["write"]))["key"]
    opt_out = {"do_not_sell": True}
    assert (await client.get("/users/me", headers={"X-API-Key": read})).status == 200
    refused = await client.post("/users/me/privacy/opt-out", json=opt_out, headers={"X-API-Key": read})
    assert refused.status == 403 and refused.body["details"]["required"] == "write"
    assert (await client.post("/users/me/privacy/opt-out", json=opt_out, headers={"X-API-Key": write})).status == 200
    assert (await client.get("/users/me", headers={"X-API-Key": write})).status == 200  # write includes read
    # The chat token opens a socket that can post: reading is not enough for it.
    assert (await client.get("/chat/token", headers={"X-API-Key": read})).status == 403
    assert (await client.get("/chat/token", headers={"X-API-Key": write})).status == 200


async def test_area_scopes_hold_a_key_to_its_areas(client: ApiClient) -> None:
    user = await client.register()
    chat = (await _create(client, user, scopes=["read", "chat"]))["key"]
    assert (await client.get("/conversations", headers={"X-API-Key": chat})).status == 200
    outside = await client.get("/users/me", headers={"X-API-Key": chat})
    assert outside.status == 403 and outside.body["details"]["areas"] == "chat"
    created = await client.post("/conversations", json={"name": "x", "type": "group"}, headers={"X-API-Key": chat})
    assert created.status == 403  # no write
    # A key with no area may use every area but admin.
    anywhere = (await _create(client, user, scopes=["read"]))["key"]
    assert (await client.get("/conversations", headers={"X-API-Key": anywhere})).status == 200
    # An admin key is held to the admin routes.
    admin = await client.register(role="admin")
    admin_key = (await _create(client, admin, scopes=["admin"]))["key"]
    assert (await client.get("/users/me", headers={"X-API-Key": admin_key})).status == 403


async def test_keys_cannot_manage_keys(client: ApiClient) -> None:
    user = await client.register()
    victim, key = await _create(client, user), (await _create(client, user, scopes=["write"]))["key"]
    assert (await client.get("/developer/api-keys", headers={"X-API-Key": key})).status == 403
    assert (await client.delete(f"/developer/api-keys/{victim['id']}", headers={"X-API-Key": key})).status == 403
    assert (await client.get("/developer/api-keys", user=user)).data["total"] == 2


async def test_the_cap_on_keys_holds_under_concurrent_creation(client: ApiClient) -> None:
    from veza.domain.api_keys import MAX_KEYS_PER_USER

    user = await client.register()
    replies = await asyncio.gather(*(client.post("/developer/api-keys", user=user, json={"name": f"k{i}"})
                                     for i in range(MAX_KEYS_PER_USER + 5)))
    assert sorted(r.status for r in replies) == [201] * MAX_KEYS_PER_USER + [400] * 5
    assert (await client.get("/developer/api-keys", user=user)).data["total"] == MAX_KEYS_PER_USER


async def test_non_admin_cannot_create_admin_scoped_key(client: ApiClient) -> None:
    user = await client.register()
    reply = await client.post("/developer/api-keys", user=user, json={"name": "x", "scopes": ["admin"]})
    assert reply.status == 403


async def test_only_the_owner_can_delete(client: ApiClient) -> None:
    owner, other = await client.register(), await client.register()
    created = await _create(client, owner)
    assert (await client.delete(f"/developer/api-keys/{created['id']}", user=other)).status == 404
    assert (await client.delete("/developer/api-keys/not-a-uuid", user=owner)).status == 404
    assert (await client.get("/developer/api-keys", user=other)).data["total"] == 0


async def test_auth_and_bad_input(client: ApiClient) -> None:
    assert (await client.get("/developer/api-keys")).status == 401
    assert (await client.post("/developer/api-keys", json={"name": "x"})).status == 401
    assert (await client.delete(f"/developer/api-keys/{uuid.uuid4()}")).status == 401
    user = await client.register()
    for body, field in (({}, "name"), ({"name": ""}, "name"), ({"name": "  "}, "name"),
                        ({"name": "x", "scopes": ["root"]}, "scopes"), ({"name": "x", "scopes": []}, "scopes"),
                        ({"name": "x", "scopes": "read"}, "scopes"), ({"name": "x" * 101}, "name")):
        reply = await client.post("/developer/api-keys", user=user, json=body)
        assert reply.status == 400, (body, reply.body)
        assert field in reply.body["details"], reply.body


async def test_banned_users_key_stops_working(client: ApiClient) -> None:
    user = await client.register()
    created = await _create(client, user)
    async with client.app[keys.db].connection() as conn:
        await conn.execute("UPDATE users SET is_banned = true WHERE id = $1", uuid.UUID(user.id))
    assert (await client.get("/users/me", headers={"X-API-Key": created["key"]})).status == 403


async def test_area_scopes_without_a_level_are_refused_naming_the_levels(client: ApiClient) -> None:
    """A key of only areas could call nothing (every route wants a level): it is not minted."""
    user = await client.register()
    for scopes in (["chat"], ["tracks", "live"], ["marketplace"]):
        reply = await client.post("/developer/api-keys", user=user, json={"name": "x", "scopes": scopes})
        assert reply.status == 400, (scopes, reply.body)
        assert "'read' or 'write'" in reply.body["error"] and "scopes" in reply.body["details"]
    assert (await client.get("/developer/api-keys", user=user)).data["total"] == 0
    for scopes in (["read", "chat"], ["write", "tracks", "live"]):
        await _create(client, user, scopes=scopes)
    admin = await client.register(role="admin")
    await _create(client, admin, scopes=["admin"])  # admin needs no level


async def test_the_stream_key_needs_a_write_key(client: ApiClient) -> None:
    """A stream key publishes, and the GET creates a draft stream: reading is not enough."""
    user = await client.register()
    read = (await _create(client, user, scopes=["read"]))["key"]
    read_live = (await _create(client, user, scopes=["read", "live"]))["key"]
    write_tracks = (await _create(client, user, scopes=["write", "tracks"]))["key"]
    for key in (read, read_live, write_tracks):
        refused = await client.get("/live/streams/me/key", headers={"X-API-Key": key})
        assert refused.status == 403, refused.body
    assert (await client.get("/live/streams/me", user=user)).data["total"] == 0  # nothing was created
    write_live = (await _create(client, user, scopes=["write", "live"]))["key"]
    got = await client.get("/live/streams/me/key", headers={"X-API-Key": write_live})
    assert got.status == 200 and got.data["stream_key"]
    assert (await client.get("/live/streams/me/key", user=user)).data["stream_key"] == got.data["stream_key"]
    assert (await client.get("/live/streams/me/key")).status == 401
    document = (await client.get("/api/v1/openapi.json")).body
    assert "creates a draft stream" in document["paths"]["/api/v1/live/streams/me/key"]["get"]["summary"]
