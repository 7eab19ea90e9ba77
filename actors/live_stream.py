"""The LiveStream actor: one per stream id, owner of its live state.

It owns: live/offline, the ingest session publishing it (which media server, which
connection), the ingest heartbeat, and the viewer count it announces. Going live/offline
and metadata updates are persisted (through the store handed to it) before they are
broadcast on the hub topic `stream:<id>`.

Viewers are the distinct sockets subscribed to that topic: the hub is the one place that
knows them (it drops a socket's subscriptions when the socket closes), so the actor
recounts from the hub instead of keeping a second, drift-prone set. While live or watched,
a ticker recounts on a fixed `viewers_interval` cadence and broadcasts `stream_viewers`
only when the number changed: at most one (volatile) event per tick, however fast viewers
churn. The same tick ends a stream whose media server stopped sending heartbeats.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from actors.runtime import Actor, ActorDead, ActorSystem, MailboxFull
from protocols.live import StreamLive, StreamOffline, StreamUpdated, StreamViewers, encode_event, topic

log = logging.getLogger("actors.live_stream")


# --- messages -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class GoLive:
    """A media server (or WHIP) asks to publish with `key`. Answers True when now live."""

    key: str
    ingest: str
    session: str


@dataclasses.dataclass(frozen=True, slots=True)
class GoOffline:
    """The publisher left. `session=None` ends whatever ingest is live (WHIP DELETE, admin)."""

    session: str | None = None
    reason: str = "ended"


@dataclasses.dataclass(frozen=True, slots=True)
class Heartbeat:
    session: str


@dataclasses.dataclass(frozen=True, slots=True)
class ViewersChanged:
    """Someone subscribed to the topic without asking GetState: make sure the ticker counts.

    Leaving needs no message: the ticker runs as long as anyone watches and recounts.
    """


@dataclasses.dataclass(frozen=True, slots=True)
class GetState:
    """Answers {live, viewers, title} for a new watcher's `stream_state`."""


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateMetadata:
    changes: tuple[tuple[str, Any], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Tick:
    pass


# --- what the actor is handed ---------------------------------------------------------------

class LiveStreamStore(Protocol):
    async def load(self, stream_id: Any) -> dict[str, Any] | None: ...
    async def go_live(self, stream_id: Any, key: str, ingest: str, session: str) -> dict[str, Any] | None: ...
    async def go_offline(self, stream_id: Any, peak_viewers: int) -> dict[str, Any] | None: ...
    async def heartbeat(self, stream_id: Any) -> None: ...
    async def set_viewers(self, stream_id: Any, viewers: int, peak: int) -> None: ...
    async def update(self, stream_id: Any, changes: dict[str, Any]) -> dict[str, Any]: ...


class Hub(Protocol):
    async def publish(self, topic: str, data: bytes, volatile: bool = False) -> None: ...
    def local_count(self, topic: str) -> int: ...


@dataclasses.dataclass(slots=True)
class LiveServices:
    """`context.services["live"]`: everything LiveStream needs from outside."""

    store: LiveStreamStore
    hub: Hub
    system: ActorSystem
    ingest_timeout: float = 60.0
    viewers_interval: float = 1.0
    # Ingests that send heartbeats (nginx-rtmp on_update); others end by their own signal.
    heartbeat_ingests: frozenset[str] = frozenset({"rtmp"})
    # For other ingests: is this (ingest, session) still publishing? None when unknown.
    ingest_alive: Callable[[str, str], bool | None] = lambda ingest, session: None
    clock: Callable[[], float] = time.monotonic


class LiveStream(Actor):
    idle_timeout = 30.0

    def __init__(self, key: Hashable, context: Any) -> None:
        super().__init__(key, context)
        self.svc: LiveServices = context.services["live"]
        self.topic = topic(key)
        self.exists = False
        self.live = False
        self.title = ""
        self.ingest: str | None = None
        self.session: str | None = None
        self.last_beat = 0.0
        self.peak = 0
        self.announced = 0
        self.announced_at = float("-inf")
        self.reannounce = False
        self._ticker: asyncio.Task[None] | None = None
        self._persisting: asyncio.Task[None] | None = None

    async def on_start(self) -> None:
        row = await self.svc.store.load(self.key)
        if row is None:
            return
        self.exists = True
        self.title = row["title"]
        self.live = row["status"] == "live"
        self.ingest, self.session = row["ingest"], row["ingest_session"]
        self.peak = row["peak_viewers"] if self.live else 0
        # After a restart the ingest keeps the heartbeat age it had, not a fresh window.
        age = row["heartbeat_age"] or 0.0
        self.last_beat = self.svc.clock() - age
        if self.live:
            self._ensure_ticker()

    async def on_stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._persisting is not None:
            await self._persisting

    def can_passivate(self) -> bool:
        return not self.live and self.svc.hub.local_count(self.topic) == 0

    async def receive(self, message: Any) -> Any:
        if not self.exists:
            raise LookupError(f"stream {self.key} not found")
        match message:
            case Tick():
                await self._tick()
            case ViewersChanged():
                self._ensure_ticker()
            case GetState():
                self._ensure_ticker()  # a new watcher: someone must count
                viewers = self.svc.hub.local_count(self.topic)
                # The new watcher saw `viewers`; if that is not what was announced, the next
                # tick announces again so it converges even if the count returns to the old value.
                self.reannounce = self.reannounce or viewers != self.announced
                return {"live": self.live, "viewers": viewers, "title": self.title}
            case GoLive():
                return await self._go_live(message)
            case GoOffline():
                return await self._go_offline(message.session, message.reason)
            case Heartbeat():
                await self._heartbeat(message.session)
            case UpdateMetadata():
                return await self._update(dict(message.changes))
            case _:
                raise TypeError(f"LiveStream cannot handle {type(message).__name__}")
        return None

    async def _go_live(self, msg: GoLive) -> bool:
        if self.live:
            return False
        row = await self.svc.store.go_live(self.key, msg.key, msg.ingest, msg.session)
        if row is None:  # the key was regenerated meanwhile, or another node made it live
            return False
        self.live, self.ingest, self.session = True, msg.ingest, msg.session
        self.title = row["title"]
        self.peak = self.announced = 0
        self.last_beat = self.svc.clock()
        log.info("stream %s live via %s", self.key, msg.ingest)
        await self._publish(StreamLive(stream=str(self.key), title=self.title, started_at=row["started_at"]))
        self._ensure_ticker()
        return True

    async def _go_offline(self, session: str | None, reason: str) -> bool:
        if not self.live or (session is not None and session != self.session):
            return False  # a late callback of an older publisher must not end the current one
        self.peak = max(self.peak, self.svc.hub.local_count(self.topic))
        row = await self.svc.store.go_offline(self.key, self.peak)
        self.live, self.ingest, self.session = False, None, None
        log.info("stream %s offline (%s)", self.key, reason)
        if row is not None:
            await self._publish(StreamOffline(stream=str(self.key), ended_at=row["ended_at"],
                                              duration=row["duration_seconds"], peak_viewers=row["peak_viewers"]))
        return True

    async def _heartbeat(self, session: str) -> None:
        if self.live and session == self.session:
            self.last_beat = self.svc.clock()
            await self.svc.store.heartbeat(self.key)

    async def _update(self, changes: dict[str, Any]) -> dict[str, Any]:
        row = await self.svc.store.update(self.key, changes)
        self.title = row["title"]
        await self._publish(StreamUpdated(stream=str(self.key), title=row["title"], description=row["description"],
                                          category=row["category"], tags=list(row["tags"])))
        return row

    async def _tick(self) -> None:
        now = self.svc.clock()
        count = self.svc.hub.local_count(self.topic)
        # One announcement per tick at most; the half-interval floor only matters when ticks
        # queued up behind a stalled actor and would otherwise go out back to back.
        if (count != self.announced or self.reannounce) and now - self.announced_at >= self.svc.viewers_interval / 2:
            self.announced, self.announced_at, self.reannounce = count, now, False
            if self.live:
                self.peak = max(self.peak, count)
            await self._publish(StreamViewers(stream=str(self.key), viewers=count), volatile=True)
            self._persist_viewers()
        if self.live and self._ingest_dead(now):
            await self._go_offline(None, "ingest gone")
        if not self.live and count == 0 and self.announced == 0 and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _persist_viewers(self) -> None:
        """Write-behind: the tick never waits for the database; the latest count wins."""
        if self._persisting is None or self._persisting.done():
            self._persisting = asyncio.get_running_loop().create_task(self._write_viewers())

    async def _write_viewers(self) -> None:
        written = None
        while written != (self.announced, self.peak):
            written = (self.announced, self.peak)
            try:
                await self.svc.store.set_viewers(self.key, *written)
            except Exception:
                log.exception("stream %s: could not persist the viewer count", self.key)
                return

    def _ingest_dead(self, now: float) -> bool:
        if self.ingest in self.svc.heartbeat_ingests:
            return now - self.last_beat > self.svc.ingest_timeout
        return self.svc.ingest_alive(self.ingest or "", self.session or "") is False

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._run_ticker(), name=f"live-ticker:{self.key}")

    async def _run_ticker(self) -> None:
        """Ticks on a fixed cadence (not "interval after the last one"), skipping missed beats."""
        ref = self.svc.system.ref(LiveStream, self.key)
        loop = asyncio.get_running_loop()
        interval = self.svc.viewers_interval
        due = loop.time() + interval
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            due = max(due + interval, loop.time() + interval / 2)
            try:
                ref.tell(Tick())
            except MailboxFull:
                continue  # the actor is busy; the next tick recounts anyway
            except ActorDead:
                return

    async def _publish(self, event: Any, volatile: bool = False) -> None:
        await self.svc.hub.publish(self.topic, encode_event(event), volatile=volatile)
