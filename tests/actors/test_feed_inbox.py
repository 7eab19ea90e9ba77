"""The Feed and Inbox actors on a real ActorSystem, broker and hub (no database)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from actors import ActorSystem
from actors.broker import InProcessBroker, deliver
from actors.feed import GLOBAL, Engaged, Feed, FeedServices, PostCreated, Trending
from actors.hub import Hub
from actors.inbox import Inbox, InboxServices, Notify


@dataclass(eq=False)
class Socket:
    """A connection as the hub sees one: records what it is handed."""

    user_id: Any = None
    frames: list[dict] = field(default_factory=list)

    def deliver(self, data: bytes, volatile: bool = False) -> None:
        self.frames.append(json.loads(data))

    def close(self, code: int, reason: str = "") -> None:
        pass


class TwoNodeBroker(InProcessBroker):
    def deliver_from(self, node: str, channel: str, payload: bytes) -> None:
        deliver(self._subs.get(channel, ()), payload, node)


async def _system(trending_seed: Any = None, unread_count: Any = None) -> tuple[ActorSystem, Hub, TwoNodeBroker]:
    broker = TwoNodeBroker("node-a")
    hub = Hub(broker)
    await hub.start()
    system = ActorSystem()
    system.provide(Feed, FeedServices(hub=hub, broker=broker, trending_seed=trending_seed))
    system.provide(Inbox, InboxServices(hub=hub, unread_count=unread_count))
    return system, hub, broker


async def test_feed_posts_reach_subscribers_and_trending_ranks_engagement() -> None:
    now = time.time()
    old, new = uuid.uuid4(), uuid.uuid4()

    async def seed(since: float) -> list[tuple[uuid.UUID, float, int, int]]:
        return [(old, now - 3600, 5, 0), (new, now - 60, 0, 0)]

    system, hub, _ = await _system(trending_seed=seed)
    listener, other = Socket(), Socket()
    await hub.subscribe("feed:global", listener)
    feed = system.ref(Feed, GLOBAL)
    assert [pid for pid, _ in await feed.ask(Trending(10))] == [old, new]
    post = {"id": str(uuid.uuid4()), "content": "hi"}
    feed.tell(PostCreated(post, now))
    for _ in range(3):
        feed.tell(Engaged(new, "comment", 1, now))
    ranked = await feed.ask(Trending(10))
    assert [pid for pid, _ in ranked][:2] == [new, old]
    assert listener.frames == [{"type": "feed_post", "feed": "global", "post": post}]
    assert other.frames == []
    await system.stop_all()
    await hub.stop()


async def test_feed_applies_engagement_from_other_nodes_once() -> None:
    system, hub, broker = await _system()
    feed = system.ref(Feed, GLOBAL)
    quiet, busy = uuid.uuid4(), uuid.uuid4()
    now = time.time()
    feed.tell(Engaged(quiet, "like", 1, now))
    await feed.ask(Trending(1))  # the actor is up and subscribed
    event = {"kind": "like", "post_id": str(busy), "at": now, "delta": 3}
    broker.deliver_from("node-b", "feed:global:events", json.dumps(event).encode())
    broker.deliver_from("node-a", "feed:global:events", json.dumps(event).encode())  # our own echo: skipped
    await asyncio.sleep(0.05)
    ranked = dict(await feed.ask(Trending(10)))
    assert ranked[busy] > ranked[quiet]
    assert ranked[busy] < 3.5 * ranked[quiet]  # applied once, not twice
    await system.stop_all()
    await hub.stop()


async def test_inbox_sends_each_notification_to_every_socket_of_its_user() -> None:
    user, stranger = uuid.uuid4(), uuid.uuid4()
    unread = {"n": 0}

    async def unread_count(user_id: uuid.UUID) -> int:
        assert user_id == user
        return unread["n"]

    system, hub, _ = await _system(unread_count=unread_count)
    phone, laptop, theirs = Socket(user), Socket(user), Socket(stranger)
    for sock in (phone, laptop, theirs):
        await hub.register(sock)
    inbox = system.ref(Inbox, user)
    unread["n"] = 3  # three were committed before the messages arrive
    replies = await asyncio.gather(*(inbox.ask(Notify({"id": str(i), "kind": "follow"})) for i in range(3)))
    assert sorted(replies) == [1, 2, 3]
    for sock in (phone, laptop):
        assert [f["notification"]["id"] for f in sock.frames] == ["0", "1", "2"]
        assert [f["unread_count"] for f in sock.frames] == [1, 2, 3]
        assert all(f["type"] == "notification" for f in sock.frames)
    assert theirs.frames == []
    await system.stop_all()
    await hub.stop()
