"""The hub: this node's live connections, by topic and by user, and fan-out across nodes.

- `await hub.subscribe(topic, conn)` / `await hub.unsubscribe(topic, conn)`: a node holds
  the broker channel of a topic only while it has local subscribers to it.
- `await hub.publish(topic, data, volatile=False, exclude=None)`: queues the same bytes on every local
  subscriber, then publishes them on the broker for the other nodes. Deliveries that come
  back from the broker with our own node as origin are skipped (already delivered).
- `await hub.send_to_user(user_id, data)`: every socket of that user, on every node
  (topic `user:<id>`, which each registered connection of a signed-in user is on).
- `await hub.broadcast(data)`: every socket on every node (broker channel `all`).

A connection is anything with `deliver(data: bytes, volatile: bool) -> None` (never
blocks: a bounded outbox), `close(code: int, reason: str) -> None` and `user_id`.
The hub never awaits a socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Iterable
from typing import Any, Protocol

from actors.broker import Broker, Subscription
from actors.sequencer import FetchFn, HeadFn, RoomSequencer

log = logging.getLogger("actors.hub")

BROADCAST_CHANNEL = "all"
_DURABLE, _VOLATILE = b"\x00", b"\x01"  # first byte of a broker payload


class Subscriber(Protocol):
    user_id: Any

    def deliver(self, data: bytes, volatile: bool = False) -> None: ...

    def close(self, code: int, reason: str = "") -> None: ...


USER_PREFIX = "user:"


def user_topic(user_id: Hashable) -> str:
    return f"{USER_PREFIX}{user_id}"


class Hub:
    def __init__(self, broker: Broker, node_id: str | None = None) -> None:
        self.broker = broker
        self.node_id = node_id or broker.node_id
        self._topics: dict[str, set[Subscriber]] = {}
        # `user:<id>` topics, joined by `register` only: the one socket of most users, a set
        # for the users with several (a set per idle socket would be ~200 B each).
        self._users: dict[str, Subscriber | set[Subscriber]] = {}
        # The topics of each registered connection, but its user's (implied by its user_id):
        # None while it is on no other, as most idle sockets are (an empty set is ~200 B).
        self._subs_of: dict[Subscriber, set[str] | None] = {}
        self._channels: dict[str, Subscription] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock and how many use it
        self._all: Subscription | None = None
        # Cluster: each room topic's events in seq order (see actors/sequencer.py).
        self._sequencing: tuple[HeadFn, FetchFn, float] | None = None
        self._seqs: dict[str, RoomSequencer] = {}
        self.room_stats = {"filled": 0, "dropped": 0}  # over every room sequencer of this node

    def enable_sequencing(self, head: HeadFn, fetch: FetchFn, gap_wait: float = 0.25) -> None:
        """Several nodes write to one room: deliver `room:` topics through a RoomSequencer."""
        self._sequencing = (head, fetch, gap_wait)

    def sequencer(self, topic: str) -> RoomSequencer | None:
        return self._seqs.get(topic)

    async def resync_rooms(self) -> None:
        """After a broker outage: read from PostgreSQL what every room missed."""
        for seqr in list(self._seqs.values()):
            try:
                await seqr.resync()
            except Exception:
                log.exception("resync of %s failed", seqr.topic)

    # ---- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        self._all = await self.broker.subscribe(BROADCAST_CHANNEL, self._on_broadcast)

    async def stop(self) -> None:
        if self._all is not None:
            await self.broker.unsubscribe(self._all)
            self._all = None
        for topic in list(self._channels):
            await self.broker.unsubscribe(self._channels.pop(topic))
        for seqr in self._seqs.values():
            seqr.close()
        self._seqs.clear()

    # ---- connections -------------------------------------------------------------------
    async def register(self, conn: Subscriber) -> None:
        """A new socket: known to broadcast, and to `send_to_user` when signed in."""
        self._subs_of.setdefault(conn, None)
        if conn.user_id is not None:
            topic = user_topic(conn.user_id)
            present = self._users.get(topic)
            if present is None:
                self._users[topic] = conn
            elif isinstance(present, set):
                present.add(conn)
            elif present is not conn:
                self._users[topic] = {present, conn}
            if topic not in self._channels:
                await self._reconcile(topic)

    def _all_topics(self, conn: Subscriber) -> set[str]:
        topics = set(self._subs_of.get(conn) or ())
        if conn.user_id is not None:
            topics.add(user_topic(conn.user_id))
        return topics

    async def unregister(self, conn: Subscriber) -> None:
        """A closed socket: removed from every topic it was on."""
        if conn not in self._subs_of:
            return
        topics = self._all_topics(conn)
        del self._subs_of[conn]
        for topic in topics:
            if topic in self._seqs:
                self._seqs[topic].forget(conn)
            subs = self._topics.get(topic)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self._topics[topic]
            if topic in self._users:
                self._leave_user_topic(topic, conn)
        for topic in topics:
            await self._reconcile(topic)

    def _leave_user_topic(self, topic: str, conn: Subscriber) -> None:
        present = self._users[topic]
        if present is conn:
            del self._users[topic]
        elif isinstance(present, set):
            present.discard(conn)
            if len(present) == 1:
                self._users[topic] = next(iter(present))

    def _members(self, topic: str) -> Iterable[Subscriber]:
        subs = self._topics.get(topic)
        if subs is not None:
            return subs
        present = self._users.get(topic)
        if present is None:
            return ()
        return present if isinstance(present, set) else (present,)

    def connections(self) -> list[Subscriber]:
        return list(self._subs_of)

    def connections_of(self, user_id: Hashable) -> list[Subscriber]:
        return list(self._members(user_topic(user_id)))

    def topics_of(self, conn: Subscriber) -> frozenset[str]:
        return frozenset(self._all_topics(conn)) if conn in self._subs_of else frozenset()

    def local_count(self, topic: str) -> int:
        return len(self._members(topic))  # type: ignore[arg-type]

    def local_subscribers(self, topic: str) -> list[Subscriber]:
        return list(self._members(topic))

    def has_channel(self, topic: str) -> bool:
        return topic in self._channels

    # ---- topics ------------------------------------------------------------------------
    async def subscribe(self, topic: str, conn: Subscriber, hold: bool = False) -> None:
        """Returns once this node hears the topic from the other nodes too.

        `hold` (room topics in a cluster): stash events for `conn` until `release`.
        A user's topic is not subscribed to: a registered socket of a signed-in user is on it.
        """
        if topic.startswith(USER_PREFIX):
            raise ValueError(f"{topic}: user topics follow register/unregister")
        seqr = self._room_sequencer(topic)
        if seqr is not None and hold:
            seqr.hold(conn)
        self._topics.setdefault(topic, set()).add(conn)
        topics = self._subs_of.get(conn)
        if topics is None:
            self._subs_of[conn] = {topic}
        else:
            topics.add(topic)
        if topic not in self._channels:
            await self._reconcile(topic)
        if seqr is not None:
            await seqr.open()

    def release(self, topic: str, conn: Subscriber, upto: int) -> None:
        """`conn` has every message up to `upto` (its replay): deliver what came after."""
        seqr = self._seqs.get(topic)
        if seqr is not None:
            seqr.release(conn, upto)

    def _room_sequencer(self, topic: str) -> RoomSequencer | None:
        if self._sequencing is None or not topic.startswith("room:"):
            return None
        seqr = self._seqs.get(topic)
        if seqr is None:
            head, fetch, gap_wait = self._sequencing
            seqr = self._seqs[topic] = RoomSequencer(topic, lambda: self._topics.get(topic, ()), head, fetch,
                                                     gap_wait, self.room_stats)
        return seqr

    async def unsubscribe(self, topic: str, conn: Subscriber) -> None:
        subs = self._topics.get(topic)
        if subs is None or conn not in subs:
            return
        subs.discard(conn)
        topics = self._subs_of.get(conn)
        if topics is not None:
            topics.discard(topic)
        if topic in self._seqs:
            self._seqs[topic].forget(conn)
        if not subs:
            del self._topics[topic]
            await self._reconcile(topic)

    async def _reconcile(self, topic: str) -> None:
        """Make the broker subscription match whether local subscribers exist.

        Serialized per topic, and re-read after every await, so a subscribe racing an
        unsubscribe always ends in the state the local table asks for.
        """
        lock, users = self._locks.get(topic, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[topic] = (lock, users + 1)
        try:
            async with lock:
                want = topic in self._topics or topic in self._users
                if want and topic not in self._channels:
                    self._channels[topic] = await self.broker.subscribe(topic, _TopicHandler(self, topic))
                elif not want and topic in self._channels:
                    await self.broker.unsubscribe(self._channels.pop(topic))
                if not want and topic in self._seqs:
                    self._seqs.pop(topic).close()  # a later subscriber starts from the head again
        finally:
            lock, users = self._locks[topic]
            # The lock is dropped only when no one else holds or awaits it.
            if users == 1:
                del self._locks[topic]
            else:
                self._locks[topic] = (lock, users - 1)

    # ---- fan-out -----------------------------------------------------------------------
    def deliver_local(self, topic: str, data: bytes, volatile: bool = False, exclude: Subscriber | None = None) -> int:
        """Queue `data` on this node's subscribers of `topic` (but `exclude`); returns how many."""
        subs = self._topics.get(topic)
        if not subs:
            present = self._users.get(topic)
            if present is None:
                return 0
            subs = present if isinstance(present, set) else {present}
        seqr = self._seqs.get(topic)
        if seqr is not None:
            seqr.offer(data, volatile, exclude)
            return len(subs)
        for conn in tuple(subs):
            if conn is exclude:
                continue
            try:
                conn.deliver(data, volatile)
            except Exception:  # one broken connection must not starve the rest
                log.exception("delivery on %s failed", topic)
        return len(subs)

    async def publish(self, topic: str, data: bytes, volatile: bool = False, exclude: Subscriber | None = None) -> None:
        """`exclude`: a local connection that must not get it (e.g. the one that caused it)."""
        self.deliver_local(topic, data, volatile, exclude)
        await self._publish_remote(topic, data, volatile)

    async def send_to_user(self, user_id: Hashable, data: bytes, volatile: bool = False) -> None:
        await self.publish(user_topic(user_id), data, volatile)

    async def broadcast(self, data: bytes, volatile: bool = False) -> None:
        self._deliver_all(data, volatile)
        await self._publish_remote(BROADCAST_CHANNEL, data, volatile)

    def close_all(self, code: int, reason: str = "", conns: Iterable[Subscriber] | None = None) -> int:
        targets = list(self._subs_of) if conns is None else list(conns)
        for conn in targets:
            conn.close(code, reason)
        return len(targets)

    def _deliver_all(self, data: bytes, volatile: bool) -> None:
        for conn in tuple(self._subs_of):
            try:
                conn.deliver(data, volatile)
            except Exception:
                log.exception("broadcast delivery failed")

    def _on_broadcast(self, payload: bytes, origin: str) -> None:
        if origin != self.node_id:
            self._deliver_all(payload[1:], payload[:1] == _VOLATILE)

    async def _publish_remote(self, channel: str, data: bytes, volatile: bool) -> None:
        try:
            await self.broker.publish(channel, (_VOLATILE if volatile else _DURABLE) + data)
        except Exception:
            # Local subscribers already have it; other nodes recover on rejoin (`since`).
            log.exception("broker publish on %s failed", channel)


class _TopicHandler:
    """The broker handler of one topic: what another node published there, delivered here.
    An object of two slots rather than a closure: a node holds one per user with a socket
    open (`user:<id>`), ~50 B instead of ~200."""

    __slots__ = ("hub", "topic")

    def __init__(self, hub: Hub, topic: str) -> None:
        self.hub, self.topic = hub, topic

    def __call__(self, payload: bytes, origin: str) -> None:
        hub = self.hub
        if origin == hub.node_id:
            return  # delivered locally before it was published
        hub.deliver_local(self.topic, payload[1:], payload[:1] == _VOLATILE)
