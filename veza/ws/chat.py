"""Chat over the socket: join/leave, message, edit/delete, react/unreact, read, typing, history.

Handlers authorize (the same rules as REST, `veza.domain.conversations`) and hand the work to the room's
actor, which answers the socket itself (`joined`, `ack`) so that nothing the room
publishes can overtake the answer. A frame with a `ref` gets exactly one direct reply.

No frame wakes a room's actor before a cheap check: `join` reads the room's access from
the database first (an unknown room is `not_found`, no actor), and every other room frame
needs the socket to have joined that room (`forbidden` otherwise), so random room ids
cannot spawn actors. A socket joins at most `MAX_JOINED` rooms at once.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any
from uuid import UUID

from actors import ActorDead
from actors.chat_room import Delete, Edit, Join, Leave, MarkRead, React, Send, Typing
from protocols import frames as f
from veza import keys, rooms
from veza.domain import conversations
from veza.domain.messages import history as read_history
from veza.http.errors import ApiError, BadRequest, Forbidden
from veza.ws.commands import CommandSet, send_error_for, send_ok
from veza.ws.connection import Connection

commands = CommandSet("chat")

MAX_JOINED = 50  # rooms one socket may have joined at once


def joined_rooms(conn: Connection) -> set[UUID]:
    return conn.state.setdefault("rooms", set())


def _require_joined(conn: Connection, room: UUID) -> None:
    """Checked here, before any actor is touched: a frame naming a room this socket has not
    joined (or one that does not exist) must not spawn that room's actor."""
    if room not in joined_rooms(conn):
        raise Forbidden("Join the room first")


@commands.command("join", f.JoinFrame, auth=False)
async def join(conn: Connection, frame: f.JoinFrame) -> None:
    joined = joined_rooms(conn)
    if frame.room not in joined and len(joined) >= MAX_JOINED:
        raise BadRequest(f"a socket may join at most {MAX_JOINED} rooms at once: leave one first")
    # Access first (a database read): an unknown or private room never reaches an actor.
    async with conn.app[keys.db].connection() as db:
        room = await conversations.access_for_joining(db, frame.room, conn.user_id, conn.role)
    joined.add(frame.room)  # before the ask: a close meanwhile still leaves
    try:
        await rooms.ask_room(conn.app, frame.room, Join(conn, frame.since, frame.ref, room.last_read_seq))
    except ApiError:
        joined.discard(frame.room)  # the room refused (deleted meanwhile): not joined, not counted
        raise


@commands.command("leave", f.LeaveFrame, auth=False)
async def leave(conn: Connection, frame: f.LeaveFrame) -> None:
    if frame.room in joined_rooms(conn):
        joined_rooms(conn).discard(frame.room)
        await rooms.ask_room(conn.app, frame.room, Leave(conn))
    conn.send(f.Left(ref=frame.ref, room=frame.room))


@commands.command("message", f.MessageFrame)
async def message(conn: Connection, frame: f.MessageFrame) -> None:
    """Pipelined: the socket's next frame is read while this one is being committed, so one
    sender is not held to one message per commit. The room handles a socket's sends in the
    order they came and acks each (after commit) on the socket itself; a refusal (not
    joined, room gone, ...) comes back as an error frame with the frame's ref."""
    assert conn.user_id is not None
    _require_joined(conn, frame.room)
    send = Send(conn.user_id, conn.username or "", frame.content, frame.client_id, conn=conn, ref=frame.ref)
    reply = await rooms.room_ref(conn.app, frame.room).submit(send)
    reply.add_done_callback(functools.partial(_refused, conn, frame.ref))


def _refused(conn: Connection, ref: Any, reply: asyncio.Future[Any]) -> None:
    if not reply.cancelled() and (exc := reply.exception()) is not None:
        send_error_for(conn, rooms.api_error_of(exc), ref)


@commands.command("edit", f.EditFrame)
async def edit(conn: Connection, frame: f.EditFrame) -> None:
    assert conn.user_id is not None
    _require_joined(conn, frame.room)
    await rooms.ask_room(conn.app, frame.room, Edit(conn, conn.user_id, frame.message_id, frame.content))
    send_ok(conn, frame.ref)


@commands.command("delete", f.DeleteFrame)
async def delete(conn: Connection, frame: f.DeleteFrame) -> None:
    assert conn.user_id is not None
    _require_joined(conn, frame.room)
    await rooms.ask_room(conn.app, frame.room, Delete(conn, conn.user_id, frame.message_id, conn.role == "admin"))
    send_ok(conn, frame.ref)


@commands.command("react", f.ReactFrame)
async def react(conn: Connection, frame: f.ReactFrame) -> None:
    assert conn.user_id is not None
    _require_joined(conn, frame.room)
    await rooms.ask_room(conn.app, frame.room, React(conn, conn.user_id, frame.message_id, frame.emoji, True))
    send_ok(conn, frame.ref)


@commands.command("unreact", f.UnreactFrame)
async def unreact(conn: Connection, frame: f.UnreactFrame) -> None:
    assert conn.user_id is not None
    _require_joined(conn, frame.room)
    await rooms.ask_room(conn.app, frame.room, React(conn, conn.user_id, frame.message_id, frame.emoji, False))
    send_ok(conn, frame.ref)


@commands.command("read", f.ReadFrame)
async def read(conn: Connection, frame: f.ReadFrame) -> None:
    assert conn.user_id is not None
    _require_joined(conn, frame.room)
    await rooms.ask_room(conn.app, frame.room, MarkRead(conn, conn.user_id, frame.seq))
    send_ok(conn, frame.ref)


@commands.command("typing", f.TypingFrame)
async def typing(conn: Connection, frame: f.TypingFrame) -> None:
    assert conn.user_id is not None
    _require_joined(conn, frame.room)
    await rooms.ask_room(conn.app, frame.room, Typing(conn, conn.user_id, conn.username or ""))
    send_ok(conn, frame.ref)


@commands.command("history", f.HistoryFrame, auth=False)
async def history(conn: Connection, frame: f.HistoryFrame) -> None:
    """Older messages, oldest first (ready to prepend); no actor needed to read."""
    async with conn.app[keys.db].connection() as db:
        access = await conversations.access(db, frame.room, conn.user_id, conn.role)
        page, has_more = await read_history(db, access, frame.before, frame.limit)
    page.reverse()
    conn.send(f.History(ref=frame.ref, room=frame.room, messages=page, has_more=has_more))


@commands.on_close
async def forget(conn: Connection) -> None:
    for room in joined_rooms(conn):
        try:  # waits for mailbox room: a lost Leave would keep a ghost online
            await rooms.room_ref(conn.app, room).send(Leave(conn), timeout=5.0)
        except (ActorDead, TimeoutError):  # shutting down: the room stops anyway
            pass
