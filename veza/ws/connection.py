"""One Connection per socket: a bounded outbox in bytes, one writer task, a token bucket.

Only the gateway's handler task reads the socket; only this connection's writer task
writes frames to it. Everything else (actors, the hub, command handlers) calls
`deliver(bytes, volatile)`, which never blocks:

- volatile events (typing, viewer counts) are not queued while the outbox is over its
  soft threshold, and are the first thrown out when it would overflow;
- a durable event that still does not fit closes the socket with 4009: the client
  reconnects and recovers with `since`, instead of slowing the room down.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections import deque
from typing import Any
from uuid import UUID

import msgspec
from aiohttp import WSMsgType, web

from protocols import frames

log = logging.getLogger("veza.ws")

CLOSE_TIMEOUT = 5.0  # how long a close handshake may take before the transport is cut


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionLimits:
    outbox_bytes: int = 1024 * 1024
    rate: float = 10.0  # frames per second, sustained
    burst: int = 30
    abuse_strikes: int = 50  # rejected frames within abuse_window -> close 4008
    abuse_window: float = 10.0

    @property
    def soft_bytes(self) -> int:
        return self.outbox_bytes // 2


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    user_id: UUID
    username: str
    role: str = "user"
    session_id: UUID | None = None


class Connection:
    def __init__(self, ws: web.WebSocketResponse, identity: Identity | None, limits: ConnectionLimits,
                 app: web.Application | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.ws = ws
        self.app = app
        self.identity = identity
        self.user_id: UUID | None = identity.user_id if identity else None
        self.username = identity.username if identity else None
        self.role = identity.role if identity else None
        self.session_id = identity.session_id if identity else None
        self.limits = limits
        self.state: dict[str, Any] = {}  # per-domain state (e.g. the rooms joined)
        self.dropped = 0  # volatile events not delivered
        self.close_code: int | None = None
        self.close_reason = ""
        self._queue: deque[tuple[bytes, bool]] = deque()
        self._queued_bytes = 0
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._tokens = float(limits.burst)
        self._refilled = time.monotonic()
        self._strikes: deque[float] = deque(maxlen=limits.abuse_strikes)

    def __repr__(self) -> str:
        return f"Connection({self.id[:8]}, user={self.user_id})"

    @property
    def authenticated(self) -> bool:
        return self.identity is not None

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    # ---- outbound ----------------------------------------------------------------------
    def deliver(self, data: bytes, volatile: bool = False) -> None:
        if self.close_code is not None:
            return
        size = len(data)
        if volatile and self._queued_bytes + size > self.limits.soft_bytes:
            self.dropped += 1
            return
        if self._queued_bytes + size > self.limits.outbox_bytes:
            self._drop_volatile()
            if self._queued_bytes + size > self.limits.outbox_bytes:
                self.close(frames.CLOSE_TOO_SLOW, "too slow: outbound queue over its limit")
                return
        self._queue.append((data, volatile))
        self._queued_bytes += size
        self._wake.set()

    def send(self, event: msgspec.Struct) -> None:
        """Encode one event for this socket only (replies); fan-out uses `deliver`."""
        self.deliver(frames.encode(event))

    def send_error(self, code: str, message: str, ref: Any = None) -> None:
        self.deliver(frames.error(code, message, ref))

    def _drop_volatile(self) -> None:
        kept = deque(item for item in self._queue if not item[1])
        self.dropped += len(self._queue) - len(kept)
        self._queue = kept
        self._queued_bytes = sum(len(data) for data, _ in kept)

    def close(self, code: int, reason: str = "") -> None:
        """Ask for the socket to close; returns at once (the writer does the handshake).

        A graceful close (1001, 4001) first flushes what is queued; 4009 drops the queue
        and interrupts a write blocked on the client.
        """
        if self.close_code is not None:
            return
        self.close_code, self.close_reason = code, reason
        if code == frames.CLOSE_TOO_SLOW:
            self._queue.clear()
            self._queued_bytes = 0
            if self._writer is not None and not self._writer.done():
                self._writer.cancel()
        self._wake.set()

    # ---- the writer task ------------------------------------------------------------------
    def start_writer(self) -> asyncio.Task[None]:
        self._writer = asyncio.get_running_loop().create_task(self._run_writer(), name=f"ws-writer:{self.id[:8]}")
        return self._writer

    async def wait_closed(self, timeout: float = CLOSE_TIMEOUT * 2) -> None:
        if self._writer is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), timeout)
        except TimeoutError:
            self._writer.cancel()

    async def _run_writer(self) -> None:
        try:
            await self._send_loop()
        except asyncio.CancelledError:
            if self.close_code != frames.CLOSE_TOO_SLOW:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # we cancelled ourselves to stop a blocked write
        except (ConnectionError, RuntimeError) as exc:  # the peer vanished mid-write
            log.debug("%r: write failed: %r", self, exc)
        await self._close_socket()

    async def _send_loop(self) -> None:
        ws = self.ws
        while not ws.closed:
            if not self._queue:
                if self.close_code is not None:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            data, _ = self._queue.popleft()
            self._queued_bytes -= len(data)
            await ws.send_frame(data, WSMsgType.TEXT)

    async def _close_socket(self) -> None:
        if self.ws.closed:
            return
        code = self.close_code or frames.CLOSE_GOING_AWAY
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.ws.close(code=code, message=self.close_reason.encode()[:120])
        except (TimeoutError, ConnectionError, RuntimeError):
            pass  # aiohttp has cut the transport

    # ---- inbound rate limit ---------------------------------------------------------------
    def take_token(self) -> bool:
        """One inbound frame against the bucket; False (and a strike) when over the rate."""
        now = time.monotonic()
        self._tokens = min(float(self.limits.burst), self._tokens + (now - self._refilled) * self.limits.rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self._strikes.append(now)
        return False

    @property
    def abusive(self) -> bool:
        """Rejected `abuse_strikes` times within `abuse_window`: sustained abuse."""
        strikes = self._strikes
        return len(strikes) == strikes.maxlen and strikes[-1] - strikes[0] <= self.limits.abuse_window
