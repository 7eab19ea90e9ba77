"""Who is in a room, who watches a stream: across every node of the cluster.

One tiny interface, two implementations:

- `LocalPresence` (no Redis): this node's connections are the whole truth.
- `RedisPresence`: one sorted set per topic, `<prefix>presence:<topic>`, holding one entry
  per connection (`node, connection, member`) scored by its expiry on Redis's clock. Each
  node re-stamps its own entries every `ttl / 3` s, so a dead node's sockets vanish
  within `ttl` (25 s by default) without anyone cleaning up after it. While Redis is away
  a node answers from its own connections.

A member is who counts once: a user id in a room (two tabs, one member), a connection id
for an anonymous stream viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from redis.exceptions import RedisError

from veza.aio import stop_task

log = logging.getLogger("veza.cluster.presence")

_SEP = "\x1f"

# KEYS[1] the topic's set; ARGV[1] ttl in ms; ARGV[2..] entries. Expiry on Redis's clock.
_TOUCH = """
local t = redis.call('TIME')
local expiry = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], expiry, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return #ARGV - 1
"""
# KEYS[1] the topic's set: drop what expired, answer what is left.
_LIVE = """
local t = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t[1] * 1000 + math.floor(t[2] / 1000))
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


class Presence(Protocol):
    async def add(self, topic: str, member: str, conn_id: str) -> None: ...

    async def remove(self, topic: str, member: str, conn_id: str) -> None: ...

    async def members(self, topic: str) -> list[str]: ...

    async def count(self, topic: str) -> int: ...


class LocalPresence:
    def __init__(self) -> None:
        self._local: dict[str, dict[str, str]] = {}  # topic -> connection -> member

    async def add(self, topic: str, member: str, conn_id: str) -> None:
        self._local.setdefault(topic, {})[conn_id] = member

    async def remove(self, topic: str, member: str, conn_id: str) -> None:
        conns = self._local.get(topic)
        if conns is not None:
            conns.pop(conn_id, None)
            if not conns:
                del self._local[topic]

    async def members(self, topic: str) -> list[str]:
        return sorted(set(self._local.get(topic, {}).values()))

    async def count(self, topic: str) -> int:
        return len(await self.members(topic))


class RedisPresence(LocalPresence):
    def __init__(self, client: Any, node_id: str, prefix: str, ttl: float = 25.0) -> None:
        super().__init__()
        self.client = client
        self.node_id = node_id
        self.prefix = prefix
        self.ttl_ms = int(ttl * 1000)
        self._touch = client.register_script(_TOUCH)
        self._live = client.register_script(_LIVE)
        self._heartbeat: asyncio.Task[None] | None = None
        self._stopping = False

    def _key(self, topic: str) -> str:
        return f"{self.prefix}presence:{topic}"

    def _entry(self, topic: str, member: str, conn_id: str) -> str:
        return f"{self.node_id}{_SEP}{conn_id}{_SEP}{member}"

    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._beat(), name="presence-heartbeat")

    async def stop(self) -> None:
        """A clean exit takes this node's entries away at once (a crash: within ttl)."""
        self._stopping = True  # a cancel that redis-py turns into its TimeoutError still stops the loop
        await stop_task(self._heartbeat)
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            async with asyncio.timeout(1.0), self.client.pipeline(transaction=False) as pipe:
                for topic, conns in self._local.items():
                    pipe.zrem(self._key(topic), *(self._entry(topic, m, c) for c, m in conns.items()))
                await pipe.execute()

    async def add(self, topic: str, member: str, conn_id: str) -> None:
        await super().add(topic, member, conn_id)
        await self._safely(self._touch(keys=[self._key(topic)], args=[self.ttl_ms, self._entry(topic, member, conn_id)]))

    async def remove(self, topic: str, member: str, conn_id: str) -> None:
        await super().remove(topic, member, conn_id)
        await self._safely(self.client.zrem(self._key(topic), self._entry(topic, member, conn_id)))

    async def members(self, topic: str) -> list[str]:
        try:
            entries = await self._live(keys=[self._key(topic)])
        except (RedisError, OSError) as exc:
            log.debug("presence of %s from this node only: %r", topic, exc)
            return await super().members(topic)
        return sorted({e.decode().split(_SEP, 2)[2] for e in entries})

    async def _safely(self, call: Any) -> None:
        try:
            await call
        except (RedisError, OSError) as exc:  # the heartbeat writes it again once Redis is back
            log.debug("presence write failed: %r", exc)

    async def _beat(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                await self.touch_all()
            except (RedisError, OSError) as exc:
                log.warning("presence heartbeat failed: %r", exc)

    async def touch_all(self) -> None:
        """Re-stamp every entry of this node (also restores them after a Redis restart)."""
        if not self._local:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for topic, conns in list(self._local.items()):
                entries = [self._entry(topic, m, c) for c, m in conns.items()]
                await self._touch(keys=[self._key(topic)], args=[self.ttl_ms, *entries], client=pipe)
            await pipe.execute()
