"""WebSocket commands of live streaming: `watch {stream}` / `unwatch {stream}`.

A watcher is a socket subscribed to the hub topic `stream:<id>`; the LiveStream actor
counts viewers from the hub, so subscribing *is* being counted, and unwatching or closing
the socket (the hub drops a closed socket from every topic) is being uncounted: no
message to the actor is needed. `watch` subscribes first, then asks the actor for the
state: the `stream_state` reply already counts this socket, and no event published after
it can be missed. Anonymous sockets may watch (streams are public). An unknown stream id
is answered `not_found` after a primary-key read, without waking an actor for it.
"""

from __future__ import annotations

from uuid import UUID

from actors.live_stream import GetState, LiveStream
from protocols.frames import UnwatchFrame, WatchFrame
from protocols.live import StreamState, topic
from veza import keys
from veza.http.errors import BadRequest, NotFound
from veza.live.service import stream_ref
from veza.store import live as live_store
from veza.ws.commands import CommandSet, send_ok
from veza.ws.connection import Connection

commands = CommandSet("live")

MAX_WATCHED = 20  # streams one socket may follow at once
_STATE = "live.watching"


def _watching(conn: Connection) -> set[UUID]:
    return conn.state.setdefault(_STATE, set())


async def _exists(conn: Connection, stream_id: UUID) -> bool:
    """Cheap before costly: a stream's actor loads it, holds a broker channel and lives on
    for a while, so an id nobody knows must not spawn one."""
    if conn.app[keys.actors].is_alive(LiveStream, stream_id):
        return True
    async with conn.app[keys.db].connection() as db:
        return await live_store.load_state(db, stream_id) is not None


@commands.command("watch", WatchFrame, auth=False)
async def watch(conn: Connection, frame: WatchFrame) -> None:
    watching = _watching(conn)
    if frame.stream not in watching and len(watching) >= MAX_WATCHED:
        raise BadRequest(f"a socket may watch at most {MAX_WATCHED} streams")
    if frame.stream not in watching and not await _exists(conn, frame.stream):
        raise NotFound("Stream not found")
    hub = conn.app[keys.hub]
    await hub.subscribe(topic(frame.stream), conn)
    try:
        state = await stream_ref(conn.app, frame.stream).ask(GetState())
    except LookupError:
        if frame.stream not in watching:
            await hub.unsubscribe(topic(frame.stream), conn)
        raise NotFound("Stream not found") from None
    watching.add(frame.stream)
    conn.send(StreamState(ref=frame.ref, stream=str(frame.stream), live=state["live"], viewers=state["viewers"],
                          title=state["title"], products=state["products"]))


@commands.command("unwatch", UnwatchFrame, auth=False)
async def unwatch(conn: Connection, frame: UnwatchFrame) -> None:
    if frame.stream in _watching(conn):
        _watching(conn).discard(frame.stream)
        await conn.app[keys.hub].unsubscribe(topic(frame.stream), conn)
    send_ok(conn, frame.ref)
