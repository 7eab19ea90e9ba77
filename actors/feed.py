"""The `Feed` actor: global feed fan-out and trending counters, one per node.

REST handlers tell it about new posts and engagement; it never waits on a socket:
- `PostCreated`: encodes one `feed_post` event and publishes the bytes on the hub topic
  `feed:<key>` (the hub queues them on local subscribers and reaches the other nodes).
- `Engaged`: a like, unlike or comment moves the post's decayed trending score.
- `Trending`: answers the best posts from memory.
Every node keeps its own counters; engagement crosses nodes on the broker channel
`feed:<key>:events` so that each node's counters see every like and comment.

What it needs from outside is its `FeedServices`: the hub, the broker, and the seed of
recent posts with their counts (to rebuild the counters after a restart). Frames are
`protocols.frames.FeedPost`, encoded once.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar
from uuid import UUID

import msgspec

from actors.broker import Broker
from actors.hub import Hub
from actors.runtime import Actor
from actors.trending import TrendingScores
from protocols.frames import FeedPost, encode

log = logging.getLogger("actors.feed")

GLOBAL = "global"
EVENTS_CHANNEL = "feed:{feed}:events"
SEED_WINDOW = 7 * 24 * 3600.0


# since (Unix time) -> (post_id, created_at, likes, comments) of the posts created since then.
TrendingSeed = Callable[[float], Awaitable[Sequence[tuple[UUID, float, int, int]]]]


@dataclasses.dataclass(frozen=True, slots=True)
class FeedServices:
    """Everything a Feed needs from outside."""

    hub: Hub
    broker: Broker  # engagement between the nodes' feeds; its node_id tells our own events apart
    trending_seed: TrendingSeed | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PostCreated:
    post: dict[str, Any]  # JSON-ready (ids and times already strings)
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class PostDeleted:
    post_id: UUID


@dataclasses.dataclass(frozen=True, slots=True)
class Engaged:
    post_id: UUID
    kind: str  # "like" | "comment"
    delta: int  # +1, or -1 for an unlike
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class Trending:
    limit: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Remote:
    payload: bytes


class Feed(Actor):
    # Counters live in memory only: never passivate, or trending would go cold.
    idle_timeout: ClassVar[float | None] = None
    mailbox_size: ClassVar[int] = 4096
    clock = staticmethod(time.time)
    context: FeedServices

    async def on_start(self) -> None:
        now = self.clock()
        self.scores = TrendingScores(now)
        self.channel = EVENTS_CHANNEL.format(feed=self.key)
        seed = self.context.trending_seed
        if seed is not None:
            for post_id, created_at, likes, comments in await seed(now - SEED_WINDOW):
                self.scores.add(post_id, "post", created_at)
                self.scores.add(post_id, "like", created_at, count=likes)
                self.scores.add(post_id, "comment", created_at, count=comments)
        me = self.context.broker.node_id

        def on_remote(payload: bytes, origin: str) -> None:
            if origin != me:
                try:
                    self.tell_self(_Remote(payload))
                except Exception:  # noqa: BLE001 - a full mailbox drops one remote event, logged
                    log.warning("feed %s: dropped a remote event", self.key)

        self.subscription = await self.context.broker.subscribe(self.channel, on_remote)

    async def on_stop(self) -> None:
        await self.context.broker.unsubscribe(self.subscription)

    def can_passivate(self) -> bool:
        return False

    async def receive(self, message: Any) -> Any:
        if isinstance(message, Trending):
            return [(pid, score) for pid, score in self.scores.top(message.limit, self.clock())]
        if isinstance(message, _Remote):
            self._apply(msgspec.json.decode(message.payload))
            return None
        event = _event_of(message)
        self._apply(event)
        if isinstance(message, PostCreated):
            await self.context.hub.publish(f"feed:{self.key}", encode(FeedPost(feed=self.key, post=message.post)))
        await self.context.broker.publish(self.channel, msgspec.json.encode(event))
        return None

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event["kind"]
        post_id = UUID(event["post_id"])
        if kind == "post":
            self.scores.add(post_id, "post", event["at"])
        elif kind == "deleted":
            self.scores.remove(post_id)
        else:
            self.scores.add(post_id, kind, event["at"], count=event["delta"])


def _event_of(message: Any) -> dict[str, Any]:
    if isinstance(message, PostCreated):
        return {"kind": "post", "post_id": str(message.post["id"]), "at": message.at}
    if isinstance(message, PostDeleted):
        return {"kind": "deleted", "post_id": str(message.post_id)}
    if isinstance(message, Engaged):
        if message.kind not in ("like", "comment"):
            raise ValueError(f"unknown engagement {message.kind!r}")
        return {"kind": message.kind, "post_id": str(message.post_id), "at": message.at, "delta": message.delta}
    raise TypeError(f"Feed cannot handle {type(message).__name__}")
