"""Live Streaming REST routes: streams, keys, ownership, and that keys never leak."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support import ApiClient
from tests.veza.live_support import HOOK_SECRET, publish_rtmp
from veza.config import Settings
from veza.store.live import looks_like_key, new_stream_key


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_hook_secret=HOOK_SECRET)


async def create(client: ApiClient, user, **body) -> dict:  # type: ignore[no-untyped-def]
    reply = await client.post("/live/streams", json={"title": "Night set", **body}, user=user)
    assert reply.status == 201, reply.body
    return reply.data


async def test_create_requires_auth_and_valid_body(client: ApiClient) -> None:
    assert (await client.post("/live/streams", json={"title": "x"})).status == 401
    user = await client.register()
    missing = await client.post("/live/streams", json={}, user=user)
    assert missing.status == 400 and "title" in missing.body["details"]
    too_many = await client.post("/live/streams", json={"title": "t", "tags": ["a"] * 21}, user=user)
    assert too_many.status == 400 and too_many.body["code"] == "invalid"
    long_tag = await client.post("/live/streams", json={"title": "t", "tags": ["x" * 33]}, user=user)
    assert long_tag.status == 400


async def test_create_returns_key_to_owner_only(client: ApiClient) -> None:
    owner = await client.register()
    stream = await create(client, owner, description="d", category="music", tags=["techno", "live"])
    key = stream["stream_key"]
    assert key.startswith("live_") and len(key) >= 40
    assert stream["rtmp_url"].startswith("rtmp://")
    assert stream["is_live"] is False and stream["status"] == "offline"
    assert stream["tags"] == ["techno", "live"] and stream["user_id"] == owner.id
    assert stream["hls_url"].endswith(f"/{stream['id']}.m3u8") and key not in stream["hls_url"]
    assert stream["whep_url"].endswith(f"/api/v1/live/streams/{stream['id']}/whep")

    public = await client.get(f"/live/streams/{stream['id']}")
    assert public.status == 200 and public.data["title"] == "Night set"
    listing = await client.get("/live/streams")
    other = await client.get(f"/live/streams/{stream['id']}", user=await client.register())
    for reply in (public, listing, other):
        assert key not in json.dumps(reply.body) and "stream_key" not in json.dumps(reply.body)


async def test_get_unknown_or_malformed_stream_is_404(client: ApiClient) -> None:
    assert (await client.get(f"/live/streams/{uuid.uuid4()}")).status == 404
    bad = await client.get("/live/streams/not-a-uuid")
    assert bad.status == 404 and bad.body["success"] is False


async def test_list_pagination_and_filter(client: ApiClient) -> None:
    user = await client.register()
    ids = [(await create(client, user, title=f"s{i}"))["id"] for i in range(3)]
    page = await client.get("/live/streams", params={"limit": 2, "offset": 0})
    assert page.status == 200 and len(page.data["streams"]) == 2 and page.data["has_more"] is True
    assert page.data["total"] >= 3
    assert (await client.get("/live/streams", params={"limit": 0})).status == 400
    assert (await client.get("/live/streams", params={"limit": 101})).status == 400
    assert (await client.get("/live/streams", params={"is_live": "maybe"})).status == 400
    live = await client.get("/live/streams", params={"is_live": "true"})
    assert not {s["id"] for s in live.data["streams"]} & set(ids)


async def test_me_lists_own_streams_with_keys(client: ApiClient) -> None:
    assert (await client.get("/live/streams/me")).status == 401
    alice, bob = await client.register(), await client.register()
    mine = await create(client, alice)
    await create(client, bob)
    reply = await client.get("/live/streams/me", user=alice)
    assert reply.status == 200 and reply.data["total"] == 1
    assert reply.data["streams"][0]["id"] == mine["id"]
    assert reply.data["streams"][0]["stream_key"] == mine["stream_key"]


async def test_me_key_creates_a_draft_once(client: ApiClient) -> None:
    assert (await client.get("/live/streams/me/key")).status == 401
    user = await client.register()
    first = await client.get("/live/streams/me/key", user=user)
    assert first.status == 200 and first.data["stream_key"].startswith("live_")
    assert first.data["rtmp_url"].startswith("rtmp://") and first.data["whip_url"].endswith("/api/v1/live/whip")
    again = await client.get("/live/streams/me/key", user=user)
    assert again.data == first.data
    assert (await client.get("/live/streams/me", user=user)).data["total"] == 1


async def test_key_of_another_users_stream_is_403(client: ApiClient) -> None:
    alice, bob = await client.register(), await client.register()
    stream = await create(client, alice)
    reply = await client.get("/live/streams/me/key", params={"stream_id": stream["id"]}, user=bob)
    assert reply.status == 403
    regen = await client.post("/live/streams/me/key/regenerate", params={"stream_id": stream["id"]}, user=bob)
    assert regen.status == 403


async def test_regenerate_replaces_the_key(client: ApiClient) -> None:
    assert (await client.post("/live/streams/me/key/regenerate")).status == 401
    user = await client.register()
    stream = await create(client, user)
    reply = await client.post("/live/streams/me/key/regenerate", user=user)
    assert reply.status == 200 and reply.data["stream_id"] == stream["id"]
    assert reply.data["stream_key"] != stream["stream_key"]
    assert (await publish_rtmp(client, stream["stream_key"])).status == 403
    assert (await publish_rtmp(client, reply.data["stream_key"])).status == 302


async def test_update_is_owner_only(client: ApiClient) -> None:
    owner, other = await client.register(), await client.register()
    stream = await create(client, owner)
    path = f"/live/streams/{stream['id']}"
    assert (await client.put(path, json={"title": "New"})).status == 401
    assert (await client.put(path, json={"title": "New"}, user=other)).status == 403
    assert (await client.put(f"/live/streams/{uuid.uuid4()}", json={"title": "x"}, user=owner)).status == 404
    assert (await client.put(path, json={"title": ""}, user=owner)).status == 400
    reply = await client.put(path, json={"title": "New", "tags": ["ambient"]}, user=owner)
    assert reply.status == 200 and reply.data["title"] == "New" and reply.data["tags"] == ["ambient"]
    assert reply.data["category"] == stream["category"] and "stream_key" not in reply.data


async def test_routes_are_documented(client: ApiClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).body
    paths = spec["paths"]
    for path in ("/api/v1/live/streams", "/api/v1/live/streams/{id}", "/api/v1/live/streams/me",
                 "/api/v1/live/streams/me/key", "/api/v1/live/streams/me/key/regenerate", "/api/v1/live/whip"):
        assert path in paths, path


@pytest.mark.parametrize("value, expected", [
    (new_stream_key(), True),
    ("live_" + "A-z_9" * 8 + "abc", True),
    ("live_" + "a" * 42, False),  # one short
    ("live_" + "a" * 44, False),
    ("live_\x00" + "a" * 42, False),  # would reach PostgreSQL, which refuses NUL in text
    ("live_" + "a" * 42 + "\n", False),
    ("live_" + "a" * 41 + "+/", False),  # base64, not base64url
    ("LIVE_" + "a" * 43, False),
    ("", False),
])
def test_looks_like_key_is_exactly_the_generated_shape(value: str, expected: bool) -> None:
    assert looks_like_key(value) is expected
