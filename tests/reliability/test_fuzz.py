"""10,000 random and malformed frames never crash the gateway or disturb another socket."""

from __future__ import annotations

import asyncio
import json
import random
import string
import uuid
from typing import Any

import aiohttp
import pytest

from protocols.errors import ErrorCode
from tests.reliability.conftest import FrameReader, Remote, next_of

pytestmark = [pytest.mark.slow]

FRAMES = 10_000
TYPES = ["join", "leave", "message", "edit", "delete", "react", "unreact", "read", "typing", "history",
         "watch", "unwatch", "subscribe", "unsubscribe", "ping", "pong", "ack", "", "JOIN", "__proto__"]
FIELDS = ["room", "since", "content", "client_id", "message_id", "emoji", "seq", "before", "limit", "stream",
          "feed", "ref", "type", "extra"]
CLIENT_CODES = {c.value for c in ErrorCode} - {ErrorCode.INTERNAL.value}


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(12 if depth < 3 else 8)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**63), 2**64 + 7, 10**30])
    if kind == 3:
        return rng.uniform(-1e308, 1e308)
    if kind == 4:
        return str(uuid.uuid4())
    if kind == 5:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 40)))
    if kind == 6:
        return "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(rng.randrange(1, 20)))
    if kind == 7:
        return "x" * rng.choice([0, 1, 63, 64, 65, 4000, 4001, 20000])
    if kind in (8, 9):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def fuzz_frame(rng: random.Random, room: str) -> str | bytes:
    kind = rng.randrange(10)
    if kind == 0:  # random bytes in a binary frame
        return rng.randbytes(rng.randrange(0, 200))
    if kind == 1:  # random text, rarely JSON
        return "".join(chr(rng.randrange(1, 0xD7FF)) for _ in range(rng.randrange(0, 100)))
    if kind == 2:  # JSON that is not an object, or truncated, or absurdly nested
        return rng.choice(["null", "1", "[]", '"join"', "true", '{"type":"join"', "{" * 3, "[" * 5000 + "]" * 5000,
                           '{"type":' * 2000 + "1" + "}" * 2000, json.dumps(_value(rng))])
    if kind >= 6:  # a well-formed frame of a real type, one field in two then mutated
        type_ = rng.choice(list(SHAPES))
        frame = {"type": type_, **{name: make(rng, room) for name, make in SHAPES[type_].items()}}
        if frame.keys() - {"type"} and rng.randrange(2):
            frame[rng.choice(sorted(frame.keys() - {"type"}))] = _value(rng)
        return json.dumps(frame)
    frame: dict[str, Any] = {"type": rng.choice(TYPES) if kind != 3 else _value(rng)}
    for _ in range(rng.randrange(0, 5)):
        frame[rng.choice(FIELDS)] = _value(rng)
    return json.dumps(frame)


def _room(rng: random.Random, room: str) -> str:
    return room if rng.randrange(3) else str(uuid.uuid4())


def _id(rng: random.Random, room: str) -> str:
    return str(uuid.uuid4())


def _seq(rng: random.Random, room: str) -> int:
    return rng.choice([0, 1, 5, 10**6])


def _text(rng: random.Random, room: str) -> str:
    return rng.choice(["fuzz", " ", "ünïcødé 🎵", "<script>alert(1)</script>", "a" * 4000])


SHAPES: dict[str, dict[str, Any]] = {
    "join": {"room": _room}, "leave": {"room": _room}, "typing": {"room": _room},
    "message": {"room": _room, "content": _text, "client_id": lambda rng, room: uuid.uuid4().hex},
    "edit": {"room": _room, "message_id": _id, "content": _text},
    "delete": {"room": _room, "message_id": _id},
    "react": {"room": _room, "message_id": _id, "emoji": lambda rng, room: rng.choice(["🔥", "👍", ""])},
    "unreact": {"room": _room, "message_id": _id, "emoji": lambda rng, room: "🔥"},
    "read": {"room": _room, "seq": _seq}, "history": {"room": _room, "before": _seq, "limit": _seq},
    "watch": {"stream": _id}, "unwatch": {"stream": _id},
    "subscribe": {"feed": lambda rng, room: rng.choice(["global", "user:x", "bad feed!"])},
    "unsubscribe": {"feed": lambda rng, room: "global"}, "ping": {},
}


async def _reader(ws: aiohttp.ClientWebSocketResponse, seen: dict[str, int], answered: asyncio.Event) -> None:
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            frame = json.loads(msg.data)
            key = f"error:{frame.get('code')}" if frame.get("type") == "error" else frame.get("type", "?")
            seen[key] = seen.get(key, 0) + 1
            if frame == {"type": "pong", "ref": "last"}:
                answered.set()


async def test_fuzzed_frames_never_hurt_the_gateway_or_a_bystander(start_server, remote_session):  # type: ignore[no-untyped-def]
    server = start_server()
    remote = Remote(remote_session, server)
    owner, fuzzer = await remote.register(), await remote.register()
    room = await remote.public_room(owner)
    bystander = FrameReader(await remote.ws(owner))
    await bystander.ws.send_json({"type": "join", "room": room})
    await bystander.next("joined")

    rng = random.Random(20261129)
    seen: dict[str, int] = {}
    sent = reconnects = 0
    while sent < FRAMES:
        ws = await remote.ws(fuzzer if reconnects % 2 == 0 else None)  # signed in and anonymous
        answered = asyncio.Event()
        reader = asyncio.create_task(_reader(ws, seen, answered))
        oversize = False
        while sent < FRAMES and not oversize:
            frame = fuzz_frame(rng, room)
            oversize = rng.randrange(2000) == 0
            if oversize:
                frame = "x" * (64 * 1024 + 1)  # the gateway closes this socket with 1009
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
            sent += 1
            if sent % 200 == 0:
                await asyncio.sleep(0)  # let the reader keep the server's outbox short
        if oversize:
            await reader
            assert ws.close_code == 1009
        else:  # a last ping: its pong means every frame before it was answered
            await ws.send_str(json.dumps({"type": "ping", "ref": "last"}))
            await asyncio.wait_for(answered.wait(), 30)
            await ws.close()
            await reader
        reconnects += 1

    errors = {key[6:]: n for key, n in seen.items() if key.startswith("error:")}
    assert errors and set(errors) <= CLIENT_CODES, (seen, server.log()[-6000:])  # never "internal"
    assert server.alive()
    # The bystander was never disturbed: its room still works end to end.
    await bystander.ws.send_json({"type": "message", "room": room, "content": "still here", "client_id": "after-fuzz"})
    ack = await bystander.next("ack")
    assert ack["message"]["content"] == "still here"
    assert bystander.close_code is None
    fresh = await remote.ws(fuzzer)
    await fresh.send_json({"type": "ping", "ref": "p"})
    assert (await next_of(fresh, "pong"))["ref"] == "p"
    await fresh.close()
    await bystander.close()
    log = server.log()
    assert "Traceback" not in log and "ws command failed" not in log, log[-4000:]
