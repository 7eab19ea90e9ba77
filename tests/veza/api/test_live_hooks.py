"""Media-server hooks: secret, key, live state, and the answers each server expects."""

from __future__ import annotations

import uuid

import pytest

from tests.support import ApiClient
from tests.veza.live_support import HOOK_SECRET, publish_done, publish_rtmp, rtmp_hook
from veza.app import create_app
from veza.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_hook_secret=HOOK_SECRET)


async def new_stream(client: ApiClient) -> dict:
    user = await client.register()
    reply = await client.post("/live/streams", json={"title": "Hook test"}, user=user)
    return reply.data


async def live_ids(client: ApiClient) -> set[str]:
    reply = await client.get("/live/streams", params={"is_live": "true", "limit": 100})
    return {s["id"] for s in reply.data["streams"]}


@pytest.mark.parametrize("hook", ["rtmp/publish", "rtmp/publish_done", "rtmp/update", "srs", "mediamtx/auth",
                                  "mediamtx/unpublish"])
@pytest.mark.parametrize("secret", [None, "wrong"])
async def test_hooks_without_the_secret_are_403(client: ApiClient, hook: str, secret: str | None) -> None:
    stream = await new_stream(client)
    params = {"secret": secret} if secret else {}
    reply = await client.post(f"/live/hooks/{hook}", params=params, allow_redirects=False,
                              data={"call": "publish", "name": stream["stream_key"], "clientid": "1"})
    assert reply.status == 403
    assert stream["id"] not in await live_ids(client)


async def test_secret_in_header_is_accepted(client: ApiClient) -> None:
    stream = await new_stream(client)
    reply = await client.post("/live/hooks/rtmp/publish", headers={"X-Hook-Secret": HOOK_SECRET},
                              data={"call": "publish", "name": stream["stream_key"], "clientid": "9"},
                              allow_redirects=False)
    assert reply.status == 302


async def test_hooks_refused_when_no_secret_is_configured(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = ApiClient(await aiohttp_client(create_app(settings.replace(live_hook_secret=None))))
    stream = await new_stream(client)
    for secret in ("", "None", HOOK_SECRET):
        reply = await client.post("/live/hooks/rtmp/publish", params={"secret": secret}, allow_redirects=False,
                                  data={"call": "publish", "name": stream["stream_key"], "clientid": "1"})
        assert reply.status == 403


async def test_rtmp_publish_redirects_to_the_stream_id_and_goes_live(client: ApiClient) -> None:
    stream = await new_stream(client)
    reply = await publish_rtmp(client, stream["stream_key"])
    assert reply.status == 302
    assert reply.headers["Location"] == stream["id"]
    assert stream["stream_key"] not in reply.headers["Location"]
    assert stream["id"] in await live_ids(client)
    details = (await client.get(f"/live/streams/{stream['id']}")).data
    assert details["is_live"] is True and details["started_at"] is not None


async def test_bad_key_and_second_publisher_are_refused(client: ApiClient) -> None:
    stream = await new_stream(client)
    assert (await publish_rtmp(client, "live_" + "x" * 43)).status == 403
    assert (await publish_rtmp(client, "not-a-key")).status == 403
    assert stream["id"] not in await live_ids(client)
    assert (await publish_rtmp(client, stream["stream_key"], clientid="1")).status == 302
    assert (await publish_rtmp(client, stream["stream_key"], clientid="2")).status == 403


async def test_wrong_call_for_the_hook_is_400(client: ApiClient) -> None:
    stream = await new_stream(client)
    reply = await rtmp_hook(client, "publish", stream["stream_key"], "play")
    assert reply.status == 400 and reply.body["code"] == "invalid"


async def test_publish_done_ends_the_stream_and_persists_duration(client: ApiClient) -> None:
    stream = await new_stream(client)
    await publish_rtmp(client, stream["stream_key"], clientid="5")
    stale = await publish_done(client, stream["stream_key"], clientid="4")  # an older publisher's late call
    assert stale.status == 200 and stream["id"] in await live_ids(client)
    assert (await publish_done(client, stream["stream_key"], clientid="5")).status == 200
    assert stream["id"] not in await live_ids(client)
    details = (await client.get(f"/live/streams/{stream['id']}")).data
    assert details["is_live"] is False and details["ended_at"] is not None
    assert details["duration_seconds"] >= 0 and details["viewer_count"] == 0
    # It can go live again afterwards.
    assert (await publish_rtmp(client, stream["stream_key"], clientid="6")).status == 302


async def test_done_and_update_accept_the_redirected_name_with_the_same_session(client: ApiClient) -> None:
    stream = await new_stream(client)
    await publish_rtmp(client, stream["stream_key"], clientid="11")
    assert (await rtmp_hook(client, "update", stream["id"], "update_publish", clientid="12")).status == 403
    assert (await rtmp_hook(client, "update", stream["id"], "update_publish", clientid="11")).status == 200
    assert (await rtmp_hook(client, "update", stream["stream_key"], "update_publish", clientid="11")).status == 200
    await rtmp_hook(client, "publish_done", stream["id"], "publish_done", clientid="11")
    assert stream["id"] not in await live_ids(client)


async def test_update_for_an_unknown_publisher_is_403(client: ApiClient) -> None:
    assert (await rtmp_hook(client, "update", str(uuid.uuid4()), "update_publish")).status == 403
    assert (await rtmp_hook(client, "update", "garbage", "update_publish")).status == 403


async def test_srs_hooks(client: ApiClient) -> None:
    stream = await new_stream(client)
    body = {"action": "on_publish", "client_id": "c1", "ip": "127.0.0.1", "vhost": "__defaultVhost__",
            "app": "live", "stream": stream["stream_key"], "param": ""}
    reply = await client.post("/live/hooks/srs", params={"secret": HOOK_SECRET}, json=body)
    assert reply.status == 200 and reply.body == {"code": 0}
    assert stream["id"] in await live_ids(client)
    again = await client.post("/live/hooks/srs", params={"secret": HOOK_SECRET}, json={**body, "client_id": "c2"})
    assert again.status == 403 and again.body["code"] != 0
    done = await client.post("/live/hooks/srs", params={"secret": HOOK_SECRET}, json={**body, "action": "on_unpublish"})
    assert done.body == {"code": 0} and stream["id"] not in await live_ids(client)
    bad = await client.post("/live/hooks/srs", params={"secret": HOOK_SECRET}, json={**body, "stream": "nope"})
    assert bad.status == 403
    malformed = await client.post("/live/hooks/srs", params={"secret": HOOK_SECRET}, json={"stream": 1})
    assert malformed.status == 400


async def test_mediamtx_auth(client: ApiClient) -> None:
    stream = await new_stream(client)
    publish = {"user": "", "password": "", "ip": "127.0.0.1", "action": "publish", "path": f"live/{stream['id']}",
               "protocol": "rtmp", "id": str(uuid.uuid4()), "query": f"key={stream['stream_key']}"}
    url, params = "/live/hooks/mediamtx/auth", {"secret": HOOK_SECRET}
    assert (await client.post(url, params=params, json={**publish, "query": "key=live_wrongwrongwrongwrong"})).status == 401
    assert (await client.post(url, params=params, json=publish)).status == 200
    assert stream["id"] in await live_ids(client)
    read = {**publish, "action": "read", "query": ""}
    assert (await client.post(url, params=params, json=read)).status == 200
    assert (await client.post(url, params=params, json={**publish, "action": "api"})).status == 401
    done = await client.post("/live/hooks/mediamtx/unpublish", params=params, json=publish)
    assert done.status == 200 and stream["id"] not in await live_ids(client)


async def test_mediamtx_unpublish_ends_only_the_session_that_went_live(client: ApiClient) -> None:
    stream = await new_stream(client)
    publish = {"action": "publish", "path": f"live/{stream['id']}", "id": "m1", "ip": "127.0.0.1",
               "protocol": "rtmp", "query": f"key={stream['stream_key']}"}
    url, params = "/live/hooks/mediamtx", {"secret": HOOK_SECRET}
    assert (await client.post(f"{url}/auth", params=params, json=publish)).status == 200
    stale = await client.post(f"{url}/unpublish", params=params, json={**publish, "id": "other"})
    assert stale.status == 200 and stream["id"] in await live_ids(client)
    # runOnNotReady knows the path (the stream id) and the source id, not necessarily the key.
    done = await client.post(f"{url}/unpublish", params=params, json={**publish, "query": ""})
    assert done.status == 200 and stream["id"] not in await live_ids(client)


NUL_KEY = "live_\x00" + "a" * 42


@pytest.mark.parametrize("hook, call", [("publish", "publish"), ("update", "update_publish"),
                                        ("publish_done", "publish_done")])
async def test_rtmp_hooks_refuse_nul_with_400(client: ApiClient, hook: str, call: str) -> None:
    stream = await new_stream(client)
    for name, clientid in ((NUL_KEY, "1"), (stream["stream_key"], "1\x00"), (stream["id"] + "\x00", "1")):
        reply = await rtmp_hook(client, hook, name, call, clientid=clientid)
        assert reply.status == 400 and reply.body["success"] is False, (name, clientid, reply.body)
    assert stream["id"] not in await live_ids(client)


async def test_srs_and_mediamtx_hooks_refuse_nul_with_400(client: ApiClient) -> None:
    stream = await new_stream(client)
    params = {"secret": HOOK_SECRET}
    srs = {"action": "on_publish", "client_id": "c1", "app": "live", "stream": stream["stream_key"], "param": ""}
    mediamtx = {"action": "publish", "path": f"live/{stream['id']}", "id": "m1", "query": ""}
    calls = [("srs", {**srs, "stream": NUL_KEY}), ("srs", {**srs, "client_id": "c\x00"}),
             ("srs", {**srs, "action": "on_unpublish", "stream": NUL_KEY}),
             ("mediamtx/auth", {**mediamtx, "password": NUL_KEY}), ("mediamtx/auth", {**mediamtx, "path": "live/\x00"}),
             ("mediamtx/auth", {**mediamtx, "password": stream["stream_key"], "id": "m\x00"}),
             ("mediamtx/unpublish", {**mediamtx, "password": NUL_KEY}),
             ("mediamtx/unpublish", {**mediamtx, "path": "live/\x00"})]
    for hook, body in calls:
        reply = await client.post(f"/live/hooks/{hook}", params=params, json=body)
        assert reply.status == 400 and reply.body["code"] == "invalid", (hook, body, reply.body)
    assert stream["id"] not in await live_ids(client)
