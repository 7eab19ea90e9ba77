"""The command registry and the one dispatch place: validation, auth, errors -> frames."""

from __future__ import annotations

import json
import uuid

import msgspec
import pytest

from actors import MailboxFull
from protocols.frames import JoinFrame, PingFrame, Pong
from veza.http.errors import NotFound
from veza.ws.commands import CommandSet, Dispatcher
from veza.ws.connection import Connection, ConnectionLimits, Identity


def connection(signed_in: bool = True) -> Connection:
    identity = Identity(uuid.uuid4(), "ann") if signed_in else None
    return Connection(None, identity, ConnectionLimits())  # type: ignore[arg-type]


def sent(conn: Connection) -> list[dict]:
    return [json.loads(data) for data, _ in conn._queue]


def make_dispatcher() -> tuple[Dispatcher, list]:
    calls: list = []
    cmds = CommandSet("test")

    @cmds.command("ping", PingFrame, auth=False)
    async def ping(conn: Connection, frame: PingFrame) -> None:
        conn.send(Pong(ref=frame.ref))

    @cmds.command("join", JoinFrame)
    async def join(conn: Connection, frame: JoinFrame) -> None:
        calls.append(frame)
        if frame.since == 1:
            raise NotFound("Room not found")
        if frame.since == 2:
            raise MailboxFull("busy")
        if frame.since == 3:
            raise RuntimeError("secret detail")

    @cmds.on_close
    async def closed(conn: Connection) -> None:
        calls.append("closed")

    return Dispatcher([cmds]), calls


ROOM = str(uuid.uuid4())


@pytest.mark.parametrize(("frame", "signed_in", "expected"), [
    ({"type": "ping", "ref": 1}, False, {"type": "pong", "ref": 1}),
    ({"type": "join", "room": ROOM, "ref": 2}, False, {"code": "unauthorized", "ref": 2}),
    ({"type": "join", "room": ROOM, "since": 1, "ref": 3}, True, {"code": "not_found", "error": "Room not found"}),
    ({"type": "join", "room": ROOM, "since": 2, "ref": 4}, True, {"code": "unavailable", "ref": 4}),
    ({"type": "join", "room": ROOM, "since": 3, "ref": 5}, True, {"code": "internal", "error": "internal error"}),
    ({"type": "leave", "room": ROOM, "ref": 6}, True, {"code": "invalid", "error": "unknown frame type 'leave'"}),
])
async def test_dispatch_maps_every_outcome_to_one_frame(frame: dict, signed_in: bool, expected: dict) -> None:
    dispatcher, _ = make_dispatcher()
    conn = connection(signed_in)
    await dispatcher.dispatch(conn, json.dumps(frame))
    [reply] = sent(conn)
    assert {k: reply.get(k) for k in expected} == expected
    if "code" in expected:
        assert reply["type"] == "error" and reply["ref"] == frame["ref"]


async def test_handlers_get_validated_frames_and_close_hooks_run() -> None:
    dispatcher, calls = make_dispatcher()
    conn = connection()
    await dispatcher.dispatch(conn, json.dumps({"type": "join", "room": ROOM}))
    assert calls == [JoinFrame(room=uuid.UUID(ROOM))]
    await dispatcher.closed(conn)
    assert calls[-1] == "closed"


def test_registry_refuses_duplicates_and_mismatched_schemas() -> None:
    cmds = CommandSet("a")
    cmds.command("ping", PingFrame)(lambda c, f: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError):
        cmds.command("ping", PingFrame)(lambda c, f: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError):
        CommandSet("b").command("join", PingFrame)(lambda c, f: None)  # type: ignore[arg-type,return-value]
    other = CommandSet("c")
    other.command("ping", PingFrame)(lambda c, f: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError):
        Dispatcher([cmds, other])


def test_a_domain_can_register_its_own_schema() -> None:
    class Shout(msgspec.Struct, tag="shout", tag_field="type", forbid_unknown_fields=True):
        text: str
        ref: str | None = None

    cmds = CommandSet("d")
    cmds.command("shout", Shout)(lambda c, f: None)  # type: ignore[arg-type,return-value]
    assert Dispatcher([cmds]).types() == ["shout"]
