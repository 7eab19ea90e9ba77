"""watch/unwatch over a real socket: stream_state, live/offline/updated events, viewer counts."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiohttp import WSMsgType

from tests.support import ApiClient
from tests.veza.live_support import HOOK_SECRET, publish_done, publish_rtmp
from veza.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_hook_secret=HOOK_SECRET, live_viewers_interval=0.1)


class Watcher:
    """A socket that records every frame it receives, for key-leak checks."""

    def __init__(self, ws) -> None:  # type: ignore[no-untyped-def]
        self.ws = ws
        self.seen: list[str] = []

    async def next(self, type_: str, timeout: float = 5.0) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.ws.receive()
                assert msg.type is WSMsgType.TEXT, (msg.type, self.ws.close_code)
                self.seen.append(msg.data)
                frame = json.loads(msg.data)
                if frame["type"] == type_:
                    return frame

    async def viewers(self, expected: int, timeout: float = 5.0) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next("stream_viewers")
                if frame["viewers"] == expected:
                    return frame


async def watcher(client: ApiClient, stream_id: str, user=None) -> tuple[Watcher, dict]:  # type: ignore[no-untyped-def]
    w = Watcher(await client.ws(user))
    await w.ws.send_json({"type": "watch", "stream": stream_id, "ref": "w"})
    return w, await w.next("stream_state")


async def new_stream(client: ApiClient) -> tuple[dict, object]:
    owner = await client.register()
    return (await client.post("/live/streams", json={"title": "Sunset"}, user=owner)).data, owner


async def test_watch_unknown_or_malformed_stream(client: ApiClient) -> None:
    w = Watcher(await client.ws())
    await w.ws.send_json({"type": "watch", "stream": str(uuid.uuid4()), "ref": 1})
    error = await w.next("error")
    assert error["code"] == "not_found" and error["ref"] == 1
    await w.ws.send_json({"type": "watch", "stream": "nope", "ref": 2})
    assert (await w.next("error"))["code"] == "invalid"
    await w.ws.send_json({"type": "ping"})
    await w.next("pong")  # still open
    await w.ws.close()


async def test_anonymous_watch_gets_state_and_the_stream_lifecycle(client: ApiClient) -> None:
    stream, owner = await new_stream(client)
    sid = stream["id"]
    w, state = await watcher(client, sid)
    assert state == {"type": "stream_state", "ref": "w", "stream": sid, "live": False, "viewers": 1, "title": "Sunset"}

    assert (await publish_rtmp(client, stream["stream_key"])).status == 302
    live = await w.next("stream_live")
    assert live["stream"] == sid and live["title"] == "Sunset" and live["started_at"]

    await client.put(f"/live/streams/{sid}", json={"title": "Sunrise", "category": "ambient"}, user=owner)
    updated = await w.next("stream_updated")
    assert updated["title"] == "Sunrise" and updated["category"] == "ambient"

    w2, state2 = await watcher(client, sid)
    assert state2["live"] is True and state2["viewers"] == 2 and state2["title"] == "Sunrise"
    await w.viewers(2)

    await publish_done(client, stream["stream_key"])
    offline = await w.next("stream_offline")
    assert offline["stream"] == sid and offline["peak_viewers"] == 2 and offline["duration"] >= 0
    await w2.next("stream_offline")
    for socket in (w, w2):
        assert all(stream["stream_key"] not in frame for frame in socket.seen)
        await socket.ws.close()


async def test_viewer_count_follows_disconnects_and_unwatch(client: ApiClient) -> None:
    stream, _ = await new_stream(client)
    sid = stream["id"]
    main, _ = await watcher(client, sid)
    others = [await watcher(client, sid) for _ in range(3)]
    await main.viewers(4)
    await others[0][0].ws.close()  # a disconnect
    await main.viewers(3)
    await others[1][0].ws.send_json({"type": "unwatch", "stream": sid, "ref": "u"})
    assert (await others[1][0].next("ok"))["ref"] == "u"
    await main.viewers(2)
    # Watching twice from one socket is still one viewer.
    await main.ws.send_json({"type": "watch", "stream": sid})
    assert (await main.next("stream_state"))["viewers"] == 2
    for w, _ in others[1:]:
        await w.ws.close()
    await main.viewers(1)
    await main.ws.close()


async def test_signed_in_sockets_watch_too(client: ApiClient) -> None:
    stream, _ = await new_stream(client)
    user = await client.register()
    w, state = await watcher(client, stream["id"], user)
    assert state["viewers"] == 1
    await w.ws.close()


async def test_stream_chat_is_a_public_room_viewers_can_join(client: ApiClient) -> None:
    stream, owner = await new_stream(client)
    room = stream["chat_room_id"]
    assert room is not None
    assert (await client.get(f"/live/streams/{stream['id']}")).data["chat_room_id"] == room
    anon, _ = await watcher(client, stream["id"])
    await anon.ws.send_json({"type": "join", "room": room, "ref": "j"})
    assert (await anon.next("joined"))["room"] == room
    fan = await client.register()
    talker = Watcher(await client.ws(fan))
    await talker.ws.send_json({"type": "join", "room": room})
    await talker.next("joined")
    await talker.ws.send_json({"type": "message", "room": room, "content": "great set!", "client_id": "c1", "ref": "m"})
    await talker.next("ack")
    said = await anon.next("message")
    assert said["message"]["content"] == "great set!" and said["message"]["author"]["username"] == fan.username
    for socket in (anon, talker):
        await socket.ws.close()
