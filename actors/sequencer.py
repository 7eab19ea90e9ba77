"""A room's events on one node, in `seq` order, exactly once — whichever node wrote them.

In a cluster several nodes write to one room: each commits its messages (PostgreSQL hands
out the room's gapless `seq`), delivers them to its own sockets and publishes them to the
others. Without care, node B's sockets could see B's message 11 before A's message 10, or
never see 10 when Redis dropped it. The hub gives each room topic (while this node has
local subscribers for it) one `RoomSequencer`, through which every `message` event passes,
local or remote:

- it delivers `next` and whatever follows it contiguously; an event from the past (a
  duplicate, or one already covered) is dropped;
- an event from the future waits in a small buffer; if the missing ones have not arrived
  after `gap_wait` seconds they are read from PostgreSQL (`fetch`) and delivered first;
- it starts at the room's head read after the broker subscription is live (`head`), so
  nothing published later can be missed, and `resync()` (after a broker reconnect) reads
  what was written meanwhile;
- a joining socket is *held*: events for it are stashed until the room has sent it its
  `joined` frame with the replay up to some seq, then `release(conn, upto)` delivers the
  stash beyond `upto`. So a joiner gets every message once: in the replay or live.

Other room events (presence, typing, edits) carry no new seq and pass straight through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec

log = logging.getLogger("actors.sequencer")

HeadFn = Callable[[str], Awaitable[int]]  # topic -> the room's last committed seq
FetchFn = Callable[[str, int, int], Awaitable[list[tuple[int, bytes]]]]  # (topic, after, limit) -> events
FETCH_PAGE = 500


class _Seq(msgspec.Struct):
    seq: int


class _Peek(msgspec.Struct):
    type: str = ""
    message: _Seq | None = None


_peek = msgspec.json.Decoder(_Peek)


def message_seq(data: bytes) -> int | None:
    """The seq of a `message` event (a new message), None for any other event."""
    try:
        head = _peek.decode(data)
    except msgspec.DecodeError:
        return None
    return head.message.seq if head.type == "message" and head.message is not None else None


class RoomSequencer:
    def __init__(self, topic: str, subscribers: Callable[[], Iterable[Any]], head: HeadFn, fetch: FetchFn,
                 gap_wait: float = 0.25, stats: dict[str, int] | None = None) -> None:
        self.topic = topic
        self._subscribers = subscribers
        self._head = head
        self._fetch = fetch
        self.gap_wait = gap_wait
        self.next = 0  # the seq to deliver next (valid once ready)
        self.ready = asyncio.Event()
        self._opening = asyncio.Lock()
        self._pending: dict[int, tuple[bytes, bool]] = {}
        self._held: dict[Any, list[tuple[int | None, bytes, bool]]] = {}
        self._floors: dict[Any, int] = {}
        self._gap_task: asyncio.Task[None] | None = None
        # "filled": events read from PostgreSQL to close gaps; "dropped": duplicates and
        # events older than `next` (shared by the hub's sequencers when it passes one dict).
        self.stats = stats if stats is not None else {"filled": 0, "dropped": 0}

    # ---- lifecycle -----------------------------------------------------------------------
    async def open(self) -> None:
        """Start at the room's head (call once the broker subscription is live)."""
        if self.ready.is_set():
            return
        async with self._opening:
            if self.ready.is_set():
                return
            self.next = await self._head(self.topic) + 1
            for seq in [s for s in self._pending if s < self.next]:
                del self._pending[seq]
            self.ready.set()
            self._drain()

    def close(self) -> None:
        if self._gap_task is not None:
            self._gap_task.cancel()
            self._gap_task = None

    async def resync(self) -> None:
        """Read what was committed meanwhile (after Redis was away)."""
        if self.ready.is_set():
            head = await self._head(self.topic)
            if head >= self.next:
                await self._fill(head)

    # ---- joiners ---------------------------------------------------------------------------
    def hold(self, conn: Any) -> None:
        self._held.setdefault(conn, [])
        self._floors.pop(conn, None)

    def release(self, conn: Any, upto: int) -> None:
        """`conn` got every message up to `upto` in its replay: deliver the rest of its stash."""
        stash = self._held.pop(conn, [])
        if upto >= self.next - 1 or not self.ready.is_set():
            self._floors[conn] = upto
        for seq, data, volatile in stash:
            if seq is None or seq > upto:
                conn.deliver(data, volatile)

    def forget(self, conn: Any) -> None:
        self._held.pop(conn, None)
        self._floors.pop(conn, None)

    # ---- events ----------------------------------------------------------------------------
    def offer(self, data: bytes, volatile: bool = False, exclude: Any = None) -> None:
        seq = message_seq(data)
        if seq is None:
            self._deliver(None, data, volatile, exclude)
            return
        if self.ready.is_set() and seq < self.next or seq in self._pending:
            self.stats["dropped"] += 1
            return
        self._pending[seq] = (data, volatile)
        if self.ready.is_set():
            self._drain()

    def _drain(self) -> None:
        while self.next in self._pending:
            data, volatile = self._pending.pop(self.next)
            self._deliver(self.next, data, volatile, None)
            self.next += 1
        if self._pending and (self._gap_task is None or self._gap_task.done()):
            self._gap_task = asyncio.get_running_loop().create_task(self._close_gap(), name=f"gap:{self.topic}")

    def _deliver(self, seq: int | None, data: bytes, volatile: bool, exclude: Any) -> None:
        for conn in tuple(self._subscribers()):
            if conn is exclude:
                continue
            stash = self._held.get(conn)
            if stash is not None:
                stash.append((seq, data, volatile))
                continue
            if seq is not None:
                floor = self._floors.get(conn)
                if floor is not None:
                    if seq <= floor:
                        continue
                    del self._floors[conn]  # past the replay: no longer needed
            try:
                conn.deliver(data, volatile)
            except Exception:  # one broken connection must not starve the rest
                log.exception("delivery on %s failed", self.topic)

    # ---- gaps --------------------------------------------------------------------------------
    async def _close_gap(self) -> None:
        delay = self.gap_wait
        while self._pending:
            await asyncio.sleep(delay)
            if not self._pending or self.next in self._pending:
                self._drain()
                continue
            try:
                await self._fill(min(self._pending) - 1)
                delay = self.gap_wait
            except Exception as exc:  # PostgreSQL away too: keep the buffer, try again later
                log.warning("%s: filling gap after seq %d failed: %r", self.topic, self.next - 1, exc)
                delay = min(delay * 2, 5.0)

    async def _fill(self, upto: int) -> None:
        while self.next <= upto:
            start = self.next
            events = await self._fetch(self.topic, start - 1, min(FETCH_PAGE, upto - start + 1))
            if not events:
                return
            for seq, data in events:
                if seq >= self.next and seq not in self._pending:
                    self._pending[seq] = (data, False)
                    self.stats["filled"] += 1
            self._drain()
            if self.next == start:
                return  # nothing usable: do not spin
