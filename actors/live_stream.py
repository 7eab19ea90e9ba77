"""The LiveStream actor: one per stream id on each node, owner of that node's view of it.

PostgreSQL decides every transition: going live, going offline, a heartbeat and an
ingest timeout are each one guarded statement (through the store handed to the actor),
so two nodes that both run an actor for the stream, or a hook that reaches a different
node than the previous one, can never both win or undo each other. The node whose
statement succeeded broadcasts the event (`stream_live`, `stream_offline`,
`stream_updated`) on the hub topic `stream:<id>`, which reaches every node's sockets.

Viewers are the distinct sockets subscribed to that topic. The hub knows this node's (it
drops a socket's subscriptions when the socket closes), so the actor recounts from the
hub instead of keeping a second, drift-prone set. While the stream is live or watched a
ticker runs on a fixed `viewers_interval` cadence: each tick announces `stream_viewers`
(volatile, to this node's sockets) when the cluster-wide count changed, at most once
per tick, and starts a background sync that records this node's count and reads the
other nodes' counts and the persisted live state. The actor never waits for that I/O.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from actors.runtime import Actor, ActorDead, ActorSystem, MailboxFull
from protocols.live import (PinnedProduct, StreamLive, StreamOffline, StreamProducts, StreamSale, StreamUpdated,
                            StreamViewers, encode_event, topic)

log = logging.getLogger("actors.live_stream")

# An offline stream whose local count did not move syncs with the other nodes every this
# many ticks instead of every tick (many watched-but-offline channels stay cheap).
QUIET_SYNC_EVERY = 5
# Pinned products a new watcher is shown are re-read at most this often (another node may
# have changed them; this node's own changes arrive at once through PinProducts).
PRODUCTS_FRESH = 5.0


# --- messages -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class GoLive:
    """A media server (or WHIP) asks to publish with `key`. Answers True when now live."""

    key: str
    ingest: str
    session: str


@dataclasses.dataclass(frozen=True, slots=True)
class GoOffline:
    """The publisher left. `session=None` ends whatever ingest is live (WHIP DELETE, key change)."""

    session: str | None = None
    reason: str = "ended"


@dataclasses.dataclass(frozen=True, slots=True)
class Heartbeat:
    """The ingest session is still publishing. Answers whether it is the live one."""

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
class PinProducts:
    """The streamer pinned these products: show them to every watcher now."""
    products: tuple[PinnedProduct, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Sale:
    """A pinned product sold (after its order's commit): announced coalesced, like viewers."""
    product_id: str
    buyer: str
    sold: int
    remaining: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateMetadata:
    changes: tuple[tuple[str, Any], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class Synced:
    """The background sync's result: the other nodes' viewers and the persisted state, as
    read before any transition this actor made after `epoch` (then the state is stale)."""

    state: dict[str, Any] | None
    epoch: int = 0


# --- what the actor is handed ---------------------------------------------------------------

class LiveStreamStore(Protocol):
    async def load(self, stream_id: Any) -> dict[str, Any] | None: ...
    async def go_live(self, stream_id: Any, key: str, ingest: str, session: str) -> dict[str, Any] | None: ...
    async def go_offline(self, stream_id: Any, session: str | None, peak: int) -> dict[str, Any] | None: ...
    async def expire(self, stream_id: Any, ingests: frozenset[str], timeout: float,
                     peak: int) -> dict[str, Any] | None: ...
    async def heartbeat(self, stream_id: Any, session: str) -> bool: ...
    async def sync(self, stream_id: Any, local: int, total: int | None, peak: int) -> dict[str, Any] | None: ...
    async def update(self, stream_id: Any, changes: dict[str, Any]) -> dict[str, Any]: ...
    async def products(self, stream_id: Any) -> list[PinnedProduct]: ...


class Hub(Protocol):
    async def publish(self, topic: str, data: bytes, volatile: bool = False) -> None: ...
    def deliver_local(self, topic: str, data: bytes, volatile: bool = False) -> int: ...
    def local_count(self, topic: str) -> int: ...


@dataclasses.dataclass(slots=True)
class LiveServices:
    """Everything LiveStream needs from outside (`ActorSystem.provide(LiveStream, ...)`)."""

    store: LiveStreamStore
    hub: Hub
    system: ActorSystem
    ingest_timeout: float = 60.0
    viewers_interval: float = 1.0
    # Ingests that send heartbeats (nginx-rtmp on_update, our WHIP sessions); a live stream
    # fed by one of these ends after `ingest_timeout` without one. SRS and MediaMTX end by
    # their unpublish callbacks.
    heartbeat_ingests: frozenset[str] = frozenset({"rtmp", "whip"})
    clock: Callable[[], float] = time.monotonic


class LiveStream(Actor):
    idle_timeout = 30.0

    def __init__(self, key: Hashable, context: Any) -> None:
        super().__init__(key, context)
        self.svc: LiveServices = context
        self.topic = topic(key)
        self.exists = False
        self.live = False
        self.title = ""
        self.ingest: str | None = None
        self.last_beat = 0.0
        self.peak = 0
        self.remote = 0  # viewers on the other nodes, as of the last sync
        self.announced = 0
        self.announced_at = float("-inf")
        self.reannounce = False
        self.persisted: int | None = None
        self.epoch = 0  # bumped by each transition this actor makes
        self._synced_local: int | None = None
        self._quiet_ticks = 0
        self._ticker: asyncio.Task[None] | None = None
        self._syncing: asyncio.Task[None] | None = None
        self.products: list[PinnedProduct] = []
        self.products_at = float("-inf")
        self.sale: Sale | None = None  # the latest sale not yet announced
        self.sales = 0  # how many sales it stands for
        self.sale_at = float("-inf")

    async def on_start(self) -> None:
        row = await self.svc.store.load(self.key)
        if row is not None:
            self.exists = True
            self._apply(row)
            if self.live:
                self._ensure_ticker()

    async def on_stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self._syncing is not None:
            await asyncio.gather(self._syncing, return_exceptions=True)

    def can_passivate(self) -> bool:
        return not self.live and self.svc.hub.local_count(self.topic) == 0

    async def receive(self, message: Any) -> Any:
        if not self.exists:
            raise LookupError(f"stream {self.key} not found")
        match message:
            case Tick():
                await self._tick()
            case Synced():
                self._synced(message.state, message.epoch)
            case ViewersChanged():
                self._ensure_ticker()
            case GetState():
                await self._fresh_products()
                return self._state()
            case PinProducts():
                self.products, self.products_at = list(message.products), self.svc.clock()
                await self._publish(StreamProducts(stream=str(self.key), products=self.products))
            case Sale():
                await self._sold(message)
            case GoLive():
                return await self._go_live(message)
            case GoOffline():
                return await self._go_offline(message.session, message.reason)
            case Heartbeat():
                return await self._heartbeat(message.session)
            case UpdateMetadata():
                return await self._update(dict(message.changes))
            case _:
                raise TypeError(f"LiveStream cannot handle {type(message).__name__}")
        return None

    # --- state ------------------------------------------------------------------------------

    def _apply(self, row: dict[str, Any]) -> None:
        """Adopt the persisted state (another node may have changed it)."""
        was_live = self.live
        self.title = row["title"]
        self.live = row["status"] == "live"
        self.ingest = row["ingest"]
        if self.live and not was_live:
            self.peak = row.get("peak_viewers", 0)
        if row.get("heartbeat_age") is not None:
            # The database has the freshest heartbeat, whichever node received it.
            self.last_beat = max(self.last_beat, self.svc.clock() - row["heartbeat_age"])

    def _state(self) -> dict[str, Any]:
        self._ensure_ticker()  # a new watcher: someone must count
        viewers = self.svc.hub.local_count(self.topic) + self.remote
        # The new watcher saw `viewers`; if that is not what was announced, the next tick
        # announces again so it converges even if the count returns to the old value.
        self.reannounce = self.reannounce or viewers != self.announced
        return {"live": self.live, "viewers": viewers, "title": self.title, "products": self.products}

    async def _fresh_products(self) -> None:
        if self.svc.clock() - self.products_at >= PRODUCTS_FRESH:
            self.products, self.products_at = await self.svc.store.products(self.key), self.svc.clock()

    # --- live shopping: sales of pinned products, coalesced like viewer counts --------------

    async def _sold(self, sale: Sale) -> None:
        if not self.live:
            return  # only sales during the stream are the stream's
        self.sale, self.sales = sale, self.sales + 1
        if self.svc.clock() - self.sale_at >= self.svc.viewers_interval:
            await self._announce_sale()
        else:
            self._ensure_ticker()  # the next tick announces it

    async def _announce_sale(self) -> None:
        sale, sales, self.sale, self.sales = self.sale, self.sales, None, 0
        if sale is None:
            return
        self.sale_at = self.svc.clock()
        event = StreamSale(stream=str(self.key), product_id=sale.product_id, buyer=sale.buyer, sold=sale.sold,
                           remaining=sale.remaining, sales=sales)
        # Every node's watchers see it; each node coalesces the sales it received.
        await self.svc.hub.publish(self.topic, encode_event(event), True)

    # --- transitions (each one guarded statement) ------------------------------------------

    async def _go_live(self, msg: GoLive) -> bool:
        row = await self.svc.store.go_live(self.key, msg.key, msg.ingest, msg.session)
        if row is None:  # already live (on any node), or the key was regenerated meanwhile
            return False
        self.epoch += 1
        self.peak = self.announced = 0
        self.live = False
        self._apply({**row, "heartbeat_age": 0.0, "ingest": msg.ingest})
        self.last_beat = self.svc.clock()
        log.info("stream %s live via %s", self.key, msg.ingest)
        await self._publish(StreamLive(stream=str(self.key), title=self.title, started_at=row["started_at"]))
        self._ensure_ticker()
        return True

    async def _go_offline(self, session: str | None, reason: str) -> bool:
        self.peak = max(self.peak, self._total())
        row = await self.svc.store.go_offline(self.key, session, self.peak)
        return await self._ended(row, reason)

    async def _ended(self, row: dict[str, Any] | None, reason: str) -> bool:
        if row is None:  # not live, or a late callback of an older publisher
            return False
        self.epoch += 1
        self.live, self.ingest = False, None
        log.info("stream %s offline (%s)", self.key, reason)
        await self._publish(StreamOffline(stream=str(self.key), ended_at=row["ended_at"],
                                          duration=row["duration_seconds"], peak_viewers=row["peak_viewers"]))
        return True

    async def _heartbeat(self, session: str) -> bool:
        if not await self.svc.store.heartbeat(self.key, session):
            return False
        self.last_beat = self.svc.clock()
        return True

    async def _update(self, changes: dict[str, Any]) -> dict[str, Any]:
        row = await self.svc.store.update(self.key, changes)
        self.epoch += 1
        self.title = row["title"]
        await self._publish(StreamUpdated(stream=str(self.key), title=row["title"], description=row["description"],
                                          category=row["category"], tags=list(row["tags"])))
        return row

    # --- the ticker ---------------------------------------------------------------------------

    def _total(self) -> int:
        return self.svc.hub.local_count(self.topic) + self.remote

    async def _tick(self) -> None:
        now = self.svc.clock()
        local = self.svc.hub.local_count(self.topic)
        total = local + self.remote
        if (total != self.announced or self.reannounce) and now - self.announced_at >= self.svc.viewers_interval / 2:
            # One announcement per tick at most; the half-interval floor only matters when
            # ticks queued up behind a stalled actor and would otherwise go out back to back.
            self.announced, self.announced_at, self.reannounce = total, now, False
            if self.live:
                self.peak = max(self.peak, total)
            # Each node announces the cluster-wide count to its own sockets.
            self.svc.hub.deliver_local(self.topic, encode_event(StreamViewers(stream=str(self.key), viewers=total)),
                                       volatile=True)
        if self.sale is not None and now - self.sale_at >= self.svc.viewers_interval:
            await self._announce_sale()
        self._start_sync(local, total)
        if (self.live and self.ingest in self.svc.heartbeat_ingests
                and now - self.last_beat > self.svc.ingest_timeout):
            row = await self.svc.store.expire(self.key, self.svc.heartbeat_ingests, self.svc.ingest_timeout, self.peak)
            if not await self._ended(row, "no ingest heartbeat"):
                self.last_beat = now - self.svc.ingest_timeout / 2  # fresh elsewhere; look again later
        if not self.live and local == 0 and self._ticker is not None:
            # Nobody here to tell and nothing to watch over. This tick's sync wrote 0 for
            # this node; a new watcher restarts the ticker (and gets a fresh announcement).
            self._ticker.cancel()
            self._ticker = None
            self.announced = 0

    def _start_sync(self, local: int, total: int) -> None:
        if self._syncing is not None and not self._syncing.done():
            return  # the previous one is still out: skip a beat rather than queue I/O
        self._quiet_ticks += 1
        if not self.live and local == self._synced_local and self._quiet_ticks < QUIET_SYNC_EVERY:
            return  # offline and nothing moved here: the others' counts can wait a few ticks
        self._quiet_ticks, self._synced_local = 0, local
        persist = total if total != self.persisted else None
        self.persisted = total
        self._syncing = asyncio.get_running_loop().create_task(self._sync(local, persist, self.peak, self.epoch))

    async def _sync(self, local: int, total: int | None, peak: int, epoch: int) -> None:
        try:
            state = await self.svc.store.sync(self.key, local, total, peak)
        except Exception:
            log.exception("stream %s: viewer sync failed", self.key)
            self.persisted = None
            return
        try:
            self.svc.system.ref(LiveStream, self.key).tell(Synced(state, epoch))
        except (MailboxFull, ActorDead):
            pass  # the next tick syncs again

    def _synced(self, state: dict[str, Any] | None, epoch: int) -> None:
        if state is not None:
            self.remote = state["remote"]
            if epoch == self.epoch:  # else it was read before our own newer transition
                self._apply(state)

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

    async def _publish(self, event: Any) -> None:
        await self.svc.hub.publish(self.topic, encode_event(event))

