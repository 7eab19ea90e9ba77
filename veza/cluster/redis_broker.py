"""The Redis broker: the nodes of a cluster hear each other over Redis pub/sub.

Same interface as `actors.broker.InProcessBroker`, plus what a cluster needs:

- One channel per topic, `<prefix><channel>`, SUBSCRIBEd only while this node has local
  handlers for it. `subscribe` returns once Redis confirmed it (or at once while Redis is
  down: every channel is re-subscribed on reconnect).
- One pub/sub connection per node, read by one task; one writer task pipelines every
  queued publish, in order. `publish` never waits on the network and never raises: this
  node's own handlers get the payload at once (as in-process), other nodes through Redis.
  While Redis is away publishes to other nodes are dropped and counted; what they missed
  is recovered from PostgreSQL (room gaps) or re-sent by whoever needs it (`on_reconnect`).
- Wire payload: `<origin node id>\\n<payload>`. Our own echoes are ignored (already
  delivered locally).
- Redis going away (read error, or no answer to a PING for two intervals): `healthy` is
  False, the reader retries with exponential backoff (jittered), re-subscribes everything,
  then runs the `on_reconnect` callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from redis.exceptions import RedisError

from veza.aio import stop_task

from actors.broker import BrokerHandler, Subscription, deliver

log = logging.getLogger("veza.cluster.broker")

ReconnectCallback = Callable[[], Awaitable[None]]
_SEP = b"\n"
_FAILURES = (RedisError, OSError, asyncio.IncompleteReadError, EOFError)


class RedisBroker:
    def __init__(self, url: str, node_id: str, prefix: str = "veza:", *, backoff_min: float = 0.05,
                 backoff_max: float = 5.0, ping_interval: float = 5.0, max_queue: int = 100_000,
                 subscribe_timeout: float = 2.0) -> None:
        if _SEP in node_id.encode():
            raise ValueError("node id must not contain a newline")
        self.node_id = node_id
        self.prefix = prefix
        self._origin = node_id.encode() + _SEP
        self._pool = redis.ConnectionPool.from_url(url, protocol=2, socket_connect_timeout=2.0)
        self.client = redis.Redis(connection_pool=self._pool)
        self.backoff_min, self.backoff_max = backoff_min, backoff_max
        self.ping_interval = ping_interval
        self.subscribe_timeout = subscribe_timeout
        self.max_queue = max_queue
        self._subs: dict[str, list[Subscription]] = {}
        self._confirm: dict[str, deque[asyncio.Future[None]]] = {}
        self._conn: redis.Connection | None = None
        self._connected = asyncio.Event()
        self._outbox: deque[tuple[bytes, bytes]] = deque()
        self._wake_writer = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._reconnect_callbacks: list[ReconnectCallback] = []
        self._callback_tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.dropped = 0  # publishes other nodes did not get (Redis away, queue full)
        self.reconnects = 0

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self, wait: float = 2.0) -> None:
        """Start the reader and writer; waits up to `wait` s for Redis (a node starts anyway)."""
        self._tasks = [asyncio.create_task(self._read_loop(), name="redis-broker-reader"),
                       asyncio.create_task(self._write_loop(), name="redis-broker-writer")]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait)

    async def close(self) -> None:
        await self.flush(timeout=1.0)
        # The flag as well as the cancel: redis-py may turn a cancel into its own TimeoutError.
        self._closing = True
        self._wake_writer.set()
        for task in [*self._tasks, *self._callback_tasks]:
            await stop_task(task)
        self._tasks = []
        await self._drop_connection()
        await self.client.aclose()
        await self._pool.disconnect()

    @property
    def healthy(self) -> bool:
        return self._connected.is_set()

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """`callback()` runs after each reconnection (not the first connection)."""
        self._reconnect_callbacks.append(callback)

    def channels(self) -> list[str]:
        return list(self._subs)

    # ---- the interface ------------------------------------------------------------------------
    async def publish(self, channel: str, payload: bytes) -> None:
        deliver(self._subs.get(channel, ()), payload, self.node_id)
        if not self._connected.is_set() or len(self._outbox) >= self.max_queue:
            self.dropped += 1
            return
        self._outbox.append(((self.prefix + channel).encode(), self._origin + payload))
        self._wake_writer.set()

    async def subscribe(self, channel: str, handler: BrokerHandler) -> Subscription:
        sub = Subscription(channel, handler)
        subs = self._subs.setdefault(channel, [])
        subs.append(sub)
        if len(subs) == 1:
            await self._command("SUBSCRIBE", channel, wait=True)
        return sub

    async def unsubscribe(self, subscription: Subscription) -> None:
        subs = self._subs.get(subscription.channel)
        if not subs or subscription not in subs:
            return
        subs.remove(subscription)
        if not subs:
            del self._subs[subscription.channel]
            await self._command("UNSUBSCRIBE", subscription.channel, wait=False)

    async def flush(self, timeout: float = 1.0) -> None:
        """Wait (bounded) until every queued publish was handed to Redis."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._outbox and self._connected.is_set():
                    await asyncio.sleep(0.005)

    # ---- the pub/sub connection -------------------------------------------------------------------
    async def _command(self, verb: str, channel: str, wait: bool) -> None:
        """(Un)subscribe now when connected; otherwise the reconnect does it from `_subs`."""
        conn = self._conn
        if conn is None or not self._connected.is_set():
            return
        future: asyncio.Future[None] | None = None
        if wait:
            future = asyncio.get_running_loop().create_future()
            self._confirm.setdefault(channel, deque()).append(future)
        try:
            await conn.send_command(verb, self.prefix + channel)
        except _FAILURES as exc:  # the reader sees the broken connection and reconnects
            log.warning("redis %s %s failed: %r", verb, channel, exc)
            with contextlib.suppress(Exception):
                await conn.disconnect()
            return
        if future is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(future), self.subscribe_timeout)

    async def _read_loop(self) -> None:
        delay = self.backoff_min
        first = True
        while not self._closing:
            try:
                await self._connect()
            except _FAILURES as exc:
                log.warning("redis broker: connect failed (%r), retrying in %.2fs", exc, delay)
                await self._drop_connection()
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_min
            log.info("redis broker: %s (%d channels)", "connected" if first else "reconnected", len(self._subs))
            if not first:
                self.reconnects += 1
                self._run_reconnect_callbacks()
            first = False
            try:
                await self._read_messages()
            except _FAILURES as exc:
                log.warning("redis broker: connection lost (%r)", exc)
            await self._lost()

    async def _connect(self) -> None:
        conn = self._pool.make_connection()
        self._conn = conn
        await conn.connect()
        channels = list(self._subs)
        if channels:
            await conn.send_command("SUBSCRIBE", *(self.prefix + c for c in channels))
            for _ in channels:  # one confirmation per channel, in order
                reply = await conn.read_response(timeout=self.subscribe_timeout)
                if reply is None:
                    raise TimeoutError("no SUBSCRIBE confirmation")
        self._connected.set()
        self._wake_writer.set()
        # (Un)subscribed while we were connecting: catch up (confirmations go to the reader).
        added, gone = set(self._subs) - set(channels), set(channels) - set(self._subs)
        if added:
            await conn.send_command("SUBSCRIBE", *(self.prefix + c for c in added))
        if gone:
            await conn.send_command("UNSUBSCRIBE", *(self.prefix + c for c in gone))

    async def _read_messages(self) -> None:
        conn = self._conn
        assert conn is not None
        quiet = 0
        while not self._closing:
            reply = await conn.read_response(timeout=self.ping_interval)
            if reply is None:
                quiet += 1
                if quiet >= 2:
                    raise TimeoutError("redis did not answer a PING")
                await conn.send_command("PING")
                continue
            quiet = 0
            self._dispatch(reply)

    def _dispatch(self, reply: list) -> None:  # type: ignore[type-arg]
        kind = reply[0]
        if kind == b"message":
            channel = reply[1].decode()[len(self.prefix):]
            origin, _, payload = reply[2].partition(_SEP)
            if origin == self._origin[:-1]:
                return  # our own publish, delivered locally already
            deliver(self._subs.get(channel, ()), payload, origin.decode())
        elif kind == b"subscribe":
            waiters = self._confirm.get(reply[1].decode()[len(self.prefix):])
            if waiters:
                future = waiters.popleft()
                if not future.done():
                    future.set_result(None)

    async def _lost(self) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was:
            log.warning("redis broker: unhealthy, %d publishes queued will be dropped", len(self._outbox))
        self.dropped += len(self._outbox)
        self._outbox.clear()
        for waiters in self._confirm.values():
            for future in waiters:
                if not future.done():
                    future.set_result(None)
        self._confirm.clear()
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.disconnect()

    def _run_reconnect_callbacks(self) -> None:
        for callback in list(self._reconnect_callbacks):
            task = asyncio.create_task(callback(), name="redis-broker-reconnect-callback")
            self._callback_tasks.add(task)
            task.add_done_callback(self._callback_tasks.discard)
            task.add_done_callback(_log_failure)

    # ---- the writer -----------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        while not self._closing:
            await self._wake_writer.wait()
            self._wake_writer.clear()
            while self._outbox and self._connected.is_set():
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), 512))]
                try:
                    async with self.client.pipeline(transaction=False) as pipe:
                        for channel, data in batch:
                            pipe.publish(channel, data)
                        await pipe.execute()
                except _FAILURES as exc:
                    self.dropped += len(batch)
                    log.warning("redis broker: publish of %d failed: %r", len(batch), exc)
                    break  # the reader notices the outage and reconnects


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("reconnect callback failed", exc_info=task.exception())
