"""What one socket can cost the server is bounded: unsent bytes (queue + transport buffer),
reply sizes, actors spawned by frames naming rooms or streams, and what a bad token or a
slow socket's close leaves behind."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from protocols import frames
from tests.support import ApiClient
from tests.veza.ws.chat_support import closed_with, joined, quiet, recv, room, until
from veza import keys
from veza.config import Settings
from veza.store import messages
from veza.ws import chat, connection

CAP = 1024 * 1024  # the default WS_OUTBOX_BYTES


async def _one_socket_on_a_topic(aiohttp_client, settings: Settings):  # type: ignore[no-untyped-def]
    """A server from `settings`, one signed-in socket on it that reads nothing yet, on a fresh topic."""
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(settings)))
    ws = await client.ws(await client.register())
    hub = client.app[keys.hub]
    (conn,) = hub.connections()
    topic = "room:" + str(uuid.uuid4())
    await hub.subscribe(topic, conn)
    return hub, ws, conn, topic


@pytest.fixture
def patient(settings: Settings) -> Settings:
    return settings.replace(ws_idle_timeout=3600, ws_heartbeat=3600)


# ---- 1. unsent bytes and reply sizes ------------------------------------------------------------
async def test_a_frame_larger_than_the_cap_is_not_written_straight_through(aiohttp_client, patient: Settings) -> None:  # type: ignore[no-untyped-def]
    hub, ws, conn, topic = await _one_socket_on_a_topic(aiohttp_client, patient)
    conn.deliver(frames.encode_event("message", pad="x" * (CAP + 1)))
    assert conn.close_code == frames.CLOSE_TOO_SLOW
    assert await closed_with(ws, timeout=30) == frames.CLOSE_TOO_SLOW


async def test_unsent_bytes_never_pass_the_cap_queue_and_transport_together(aiohttp_client, patient: Settings) -> None:  # type: ignore[no-untyped-def]
    """Frames bigger than the direct-write threshold, to a socket that reads nothing: what
    the transport buffers counts with the queue, so the sum stays under the cap until 4009."""
    hub, ws, conn, topic = await _one_socket_on_a_topic(aiohttp_client, patient)
    transport = conn._transport
    chunk = frames.encode_event("message", pad="x" * 200_000)
    most = 0
    while not conn.closing:
        await hub.publish(topic, chunk)
        if not conn.closing:
            most = max(most, transport.get_write_buffer_size() + conn.queued_bytes)
        await asyncio.sleep(0)
    assert conn.close_code == frames.CLOSE_TOO_SLOW
    assert 0 < most <= CAP
    assert await closed_with(ws, timeout=30) == frames.CLOSE_TOO_SLOW


async def _big_room(client: ApiClient, count: int) -> tuple[Any, str]:
    """A room holding `count` messages of 4000 emoji (~16 KB each once encoded)."""
    owner = await client.register()
    rid = await room(client, owner)
    items = [(UUID(owner.id), "🎵" * frames.MAX_CONTENT_CHARS, f"c{i}") for i in range(count)]
    async with client.app[keys.db].connection() as db:
        await messages.insert_batch(db, UUID(rid), items)
    return owner, rid


def _messages_bytes(frame: dict) -> int:
    return len(json.dumps(frame["messages"], ensure_ascii=False, separators=(",", ":")).encode())


async def test_joined_replay_is_cut_by_bytes_and_says_it_is_not_recovered(client: ApiClient) -> None:
    owner, rid = await _big_room(client, 40)  # ~640 KB missed
    ws = await client.ws(owner)
    state = await joined(ws, rid, since=0)
    seqs = [m["seq"] for m in state["messages"]]
    assert state["recovered"] is False and state["seq"] == 40
    assert 0 < len(seqs) < 40 and seqs == list(range(41 - len(seqs), 41))  # the newest, contiguous
    assert _messages_bytes(state) <= frames.MESSAGES_BUDGET_BYTES
    # Nothing cut when it fits: a small replay is still a full recovery.
    small = await joined(ws, rid, since=38, ref="j2")
    assert small["recovered"] is True and [m["seq"] for m in small["messages"]] == [39, 40]
    await ws.close()


async def test_history_pages_are_cut_by_bytes_and_page_back_to_the_start(client: ApiClient) -> None:
    owner, rid = await _big_room(client, 40)
    ws = await client.ws(owner)
    seen: list[int] = []
    before = None
    for page_no in range(10):
        frame: dict[str, Any] = {"type": "history", "room": rid, "limit": 100, "ref": page_no}
        if before is not None:
            frame["before"] = before
        await ws.send_json(frame)
        page = await until(ws, "history", ref=page_no)
        assert _messages_bytes(page) <= frames.MESSAGES_BUDGET_BYTES
        seen = [m["seq"] for m in page["messages"]] + seen
        if not page["has_more"]:
            break
        before = page["messages"][0]["seq"]
    assert page_no > 0  # a limit-100 page of these did not fit in one frame
    assert seen == list(range(1, 41))
    await ws.close()


def test_newest_that_fit_keeps_the_newest_and_at_least_one() -> None:
    now = frames.dt.datetime(2026, 1, 1, tzinfo=frames.dt.UTC)
    author = frames.Author(id=uuid.uuid4(), username="a")

    def message(seq: int, size: int) -> frames.ChatMessage:
        return frames.ChatMessage(id=uuid.uuid4(), seq=seq, room=uuid.uuid4(), author=author, content="x" * size,
                                  client_id=None, created_at=now)

    small = [message(i, 10) for i in range(5)]
    assert frames.newest_that_fit(small) == small
    big = [message(i, 100_000) for i in range(5)]
    assert [m.seq for m in frames.newest_that_fit(big)] == [3, 4]
    huge = [message(1, 10), message(2, 300_000)]
    assert [m.seq for m in frames.newest_that_fit(huge)] == [2]
    assert frames.newest_that_fit([]) == []


# ---- 2. frames naming rooms or streams spawn no actors ------------------------------------------
async def test_room_frames_before_join_are_refused_without_spawning_actors(client: ApiClient) -> None:
    user = await client.register()
    ws = await client.ws(user)
    system = client.app[keys.actors]
    before = system.counts().get("ChatRoom", 0)
    msg = str(uuid.uuid4())
    room_frames = [
        {"type": "message", "content": "hi", "client_id": "c"},
        {"type": "edit", "message_id": msg, "content": "x"},
        {"type": "delete", "message_id": msg},
        {"type": "react", "message_id": msg, "emoji": "🔥"},
        {"type": "unreact", "message_id": msg, "emoji": "🔥"},
        {"type": "read", "seq": 1},
        {"type": "typing"},
    ]
    for n, frame in enumerate(room_frames):
        await ws.send_json({**frame, "room": str(uuid.uuid4()), "ref": n})
        error = await until(ws, "error", ref=n)
        assert error["code"] == "forbidden", error
    await ws.send_json({"type": "join", "room": str(uuid.uuid4()), "ref": "j"})
    assert (await until(ws, "error", ref="j"))["code"] == "not_found"
    assert system.counts().get("ChatRoom", 0) == before
    # A room the socket did join still works.
    rid = await room(client, user)
    await joined(ws, rid)
    await ws.send_json({"type": "typing", "room": rid, "ref": "t"})
    assert (await until(ws, "ok", ref="t"))["ref"] == "t"
    await ws.close()


async def test_watching_unknown_streams_spawns_no_actor(client: ApiClient) -> None:
    ws = await client.ws()
    system = client.app[keys.actors]
    before = system.counts().get("LiveStream", 0)
    streams = [str(uuid.uuid4()) for _ in range(5)]
    for n, stream in enumerate(streams):
        await ws.send_json({"type": "watch", "stream": stream, "ref": n})
        assert (await until(ws, "error", ref=n))["code"] == "not_found"
    assert system.counts().get("LiveStream", 0) == before
    assert all(client.app[keys.hub].local_count(f"stream:{s}") == 0 for s in streams)
    await ws.close()


async def test_a_socket_joins_a_bounded_number_of_rooms(client: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat, "MAX_JOINED", 2)
    user = await client.register()
    rooms = [await room(client, user) for _ in range(3)]
    ws = await client.ws(user)
    await joined(ws, rooms[0])
    await joined(ws, rooms[1], ref="j1")
    await joined(ws, rooms[1], since=0, ref="again")  # joining again is not one more room
    await ws.send_json({"type": "join", "room": rooms[2], "ref": "over"})
    assert (await until(ws, "error", ref="over"))["code"] == "invalid"
    await ws.send_json({"type": "leave", "room": rooms[0], "ref": "l"})
    await until(ws, "left", ref="l")
    await joined(ws, rooms[2], ref="now")
    await ws.close()


# ---- 3. a slow socket's delayed abort ------------------------------------------------------------
async def test_the_delayed_abort_of_a_slow_socket_leaves_no_error(aiohttp_client, patient: Settings,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The client reads again after its 4009: the transport flushes and closes by itself,
    and the abort timer then finds nothing to cut (it used to raise inside the loop)."""
    linger = 0.2
    monkeypatch.setattr(connection, "SLOW_LINGER", linger)
    hub, ws, conn, topic = await _one_socket_on_a_topic(aiohttp_client, patient)
    transport = conn._transport
    chunk = frames.encode_event("message", pad="x" * 16000)
    while not conn.closing:
        await hub.publish(topic, chunk)
        await asyncio.sleep(0)
    assert transport.get_write_buffer_size() > 0  # so the abort timer was armed
    caplog.set_level(logging.ERROR)
    assert await closed_with(ws, timeout=30) == frames.CLOSE_TOO_SLOW
    async with asyncio.timeout(30):
        while transport.get_write_buffer_size() or not transport.is_closing():
            await asyncio.sleep(0.02)
    await asyncio.sleep(linger * 3)  # let the timer fire
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# ---- 4. subscribe / unsubscribe / unwatch answer `ok`, only with a ref -------------------------------------
async def test_subscribe_and_unsubscribe_answer_ok_only_with_a_ref(client: ApiClient) -> None:
    ws = await client.ws()
    await ws.send_json({"type": "subscribe", "feed": "global"})
    await ws.send_json({"type": "unsubscribe", "feed": "global"})
    await ws.send_json({"type": "unwatch", "stream": str(uuid.uuid4())})  # the same rule
    await ws.send_json({"type": "subscribe", "feed": "global", "ref": 7})
    assert await recv(ws) == {"type": "ok", "ref": 7}
    await ws.send_json({"type": "unsubscribe", "feed": "global", "ref": 8})
    assert await recv(ws) == {"type": "ok", "ref": 8}
    assert await quiet(ws) == []
    await ws.close()


# ---- 5. malformed claims in a validly signed token ----------------------------------------------
@pytest.mark.parametrize("sid", [123, ["x"], {"a": 1}, "not-a-uuid"])
async def test_a_signed_token_with_a_malformed_claim_closes_4001(client: ApiClient, sid: Any) -> None:
    user = await client.register()
    token = client.app[keys.tokens]._issue("chat", user.id, 300, role="user", sid=sid, name=user.username).token
    ws = await client.raw.ws_connect("/api/v1/ws", params={"token": token})
    assert await closed_with(ws) == frames.CLOSE_UNAUTHORIZED


# ---- docs ------------------------------------------------------------------------------------------
def test_the_new_limits_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "websocket.md").read_text()
    assert f"{frames.MESSAGES_BUDGET_BYTES // 1024} KiB" in doc
    assert f"at most {chat.MAX_JOINED} rooms" in doc or f"at most {chat.MAX_JOINED} joined rooms" in doc
