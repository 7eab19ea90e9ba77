"""One Connection per socket: a bounded outbox in bytes, a writer task only when backed up, a token bucket.

Only the gateway's handler task reads the socket. Everything else (actors, the hub,
command handlers) calls `deliver(bytes, volatile)`, which never blocks:

- while the socket keeps up (nothing queued, the transport's buffer under its high-water
  mark) the frame is written to the transport at once: no task, no queue. A fan-out to
  2,000 sockets is then 2,000 `transport.write` calls of the same framed bytes (framed
  once, see `_framed`);
- otherwise it is queued, and one writer task drains the queue with aiohttp's flow
  control, then goes away;

- volatile events (typing, viewer counts) are not queued while the outbox is over its
  soft threshold, and are the first thrown out when it would overflow;
- a durable event that still does not fit closes the socket with 4009: the client
  reconnects and recovers with `since`, instead of slowing the room down.

The cap bounds every unsent byte of a socket: the outbox plus what the transport still
buffers, so a direct write too big for what is left of the cap is not taken either.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import struct
import time
from collections import deque
from typing import Any
from uuid import UUID

import msgspec
from aiohttp import WSMsgType, web

from protocols import frames

log = logging.getLogger("veza.ws")

CLOSE_TIMEOUT = 5.0  # how long a close handshake may take before the transport is cut
# A socket cut for being too slow keeps its fd this long, so a client that resumes reading
# still finds the 4009 close frame behind what was buffered; then the transport is aborted.
SLOW_LINGER = 30.0
# Write straight to the transport only while its buffer is under asyncio's high-water mark.
DIRECT_WRITE_LIMIT = 64 * 1024

_PACK_LEN1 = struct.Struct("!BB").pack
_PACK_LEN2 = struct.Struct("!BBH").pack
_PACK_LEN3 = struct.Struct("!BBQ").pack
_last_framed: tuple[bytes, bytes] = (b"", b"")
# A connection's id only tells this process's sockets apart (logs): a counter, not a uuid4
# (a getrandom call per upgrade, and a 32-character string kept per socket).
_connection_ids = itertools.count(1)


def _framed(payload: bytes) -> bytes:
    """An unmasked, uncompressed RFC 6455 text frame (what a server sends) around `payload`.

    A fan-out hands the same bytes object to every socket in turn: the frame is built once
    for all of them (the one-entry cache hits on identity).
    """
    global _last_framed
    last, framed = _last_framed
    if payload is last:
        return framed
    n = len(payload)
    if n < 126:
        header = _PACK_LEN1(0x81, n)
    elif n < 65536:
        header = _PACK_LEN2(0x81, 126, n)
    else:
        header = _PACK_LEN3(0x81, 127, n)
    framed = header + payload
    _last_framed = (payload, framed)
    return framed


def _abort_if_unflushed(transport: asyncio.BaseTransport) -> None:
    """Cut a transport that still holds unsent bytes. One that flushed meanwhile has closed
    by itself, and aborting a closed transport fails inside the event loop."""
    if transport.get_write_buffer_size():  # type: ignore[attr-defined]
        transport.abort()  # type: ignore[attr-defined]


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
    """Idle sockets cost no task: the writer runs only while there is something to send."""

    __slots__ = ("id", "ws", "app", "user_id", "username", "role", "session_id", "limits", "_state",
                 "dropped", "close_code", "close_reason", "_queue", "_queued_bytes", "_writer", "_started",
                 "_transport", "_tokens", "_refilled", "_strikes", "__weakref__")

    def __init__(self, ws: web.WebSocketResponse, identity: Identity | None, limits: ConnectionLimits,
                 app: web.Application | None = None, transport: asyncio.Transport | None = None) -> None:
        self.id = next(_connection_ids)
        self.ws = ws
        # The request's transport (aiohttp hands it over to the socket): direct writes go there.
        self._transport = transport
        self.app = app
        # Who it is signed in as, kept field by field (`identity` rebuilds the Identity).
        self.user_id: UUID | None = identity.user_id if identity else None
        self.username = identity.username if identity else None
        self.role = identity.role if identity else None
        self.session_id = identity.session_id if identity else None
        self.limits = limits
        self._state: dict[str, Any] | None = None
        self.dropped = 0  # volatile events not delivered
        self.close_code: int | None = None
        self.close_reason = ""
        # Created when a frame first has to wait (an empty deque is ~600 B: most sockets never queue).
        self._queue: deque[tuple[bytes, bool]] | None = None
        self._queued_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._started = False
        # The bucket is full until the first inbound frame: nothing to keep per idle socket.
        self._tokens: float | None = None
        self._refilled = 0.0
        self._strikes: deque[float] | None = None

    def __repr__(self) -> str:
        return f"Connection({self.id}, user={self.user_id})"

    def set_role(self, role: str) -> None:
        """The user's platform role changed (an admin's decision, announced on every node)."""
        if self.user_id is not None:
            self.role = role

    @property
    def identity(self) -> Identity | None:
        """Who the socket is signed in as (None: anonymous), with the role as it is now."""
        if self.user_id is None:
            return None
        return Identity(self.user_id, self.username, self.role, self.session_id)  # type: ignore[arg-type]

    @property
    def state(self) -> dict[str, Any]:
        """Per-domain state (e.g. the rooms joined), made on first use: most sockets join nothing."""
        state = self._state
        if state is None:
            state = self._state = {}
        return state

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

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
        transport = self._transport
        # What the transport still buffers is unsent too: it counts against the same cap.
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        size = len(data)
        if (transport is not None and self._writer is None and self._started and not self._queue
                and buffered <= DIRECT_WRITE_LIMIT and buffered + size <= self.limits.outbox_bytes):
            if transport.is_closing() or self.ws.closed:
                return  # the peer is gone or closing: the read loop is about to finish
            transport.write(_framed(data))
            return
        if volatile and buffered + self._queued_bytes + size > self.limits.soft_bytes:
            self.dropped += 1
            return
        if buffered + self._queued_bytes + size > self.limits.outbox_bytes:
            self._drop_volatile()
            if buffered + self._queued_bytes + size > self.limits.outbox_bytes:
                self.close(frames.CLOSE_TOO_SLOW, "too slow: outbound queue over its limit")
                return
        if self._queue is None:
            self._queue = deque()
        self._queue.append((data, volatile))
        self._queued_bytes += size
        self._ensure_writer()

    def send(self, event: msgspec.Struct) -> None:
        """Encode one event for this socket only (replies); fan-out uses `deliver`."""
        self.deliver(frames.encode(event))

    def send_error(self, code: str, message: str, ref: Any = None) -> None:
        self.deliver(frames.error(code, message, ref))

    def _drop_volatile(self) -> None:
        queue = self._queue or ()
        kept = deque(item for item in queue if not item[1])
        self.dropped += len(queue) - len(kept)
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
            self._queue = None
            self._queued_bytes = 0
            if self._writer is not None and not self._writer.done():
                # Interrupt a write blocked on the client. The writer may not even have
                # started (a burst can create and overflow it in one step), so a fresh
                # one does the close.
                self._writer.cancel()
                self._writer = None
        self._ensure_writer()

    # ---- the writer task ------------------------------------------------------------------
    def start(self) -> None:
        """The socket is open: from now on queued frames are written."""
        self._started = True
        if self._queue or self.close_code is not None:
            self._ensure_writer()

    def _ensure_writer(self) -> None:
        if self._writer is None and self._started:
            self._writer = asyncio.get_running_loop().create_task(self._run_writer())

    async def wait_closed(self, timeout: float = CLOSE_TIMEOUT * 2) -> None:
        """Wait for the close handshake this connection asked for (see `close`)."""
        self._started = True
        self._ensure_writer()
        writer = self._writer
        if writer is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(writer), timeout)
        except TimeoutError:
            writer.cancel()

    async def _run_writer(self) -> None:
        try:
            await self._send_queued()
        except asyncio.CancelledError:
            if self.close_code != frames.CLOSE_TOO_SLOW:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # we cancelled ourselves to stop a blocked write
            return  # the writer that `close` started does the close
        except (ConnectionError, RuntimeError) as exc:  # the peer vanished mid-write
            log.debug("%r: write failed: %r", self, exc)
            self.close_code = self.close_code or 1006
            self._queue = None
            self._queued_bytes = 0
        if self.close_code is None:
            self._writer = None  # drained and idle: no task (and no queue) until the next frame
            if not self._queue:
                self._queue = None
            return
        await self._close_socket()

    async def _send_queued(self) -> None:
        ws, queue = self.ws, self._queue
        while queue and not ws.closed:
            data, _ = queue.popleft()
            self._queued_bytes -= len(data)
            await ws.send_frame(data, WSMsgType.TEXT)

    async def _close_socket(self) -> None:
        if self.ws.closed:
            return
        code = self.close_code or frames.CLOSE_GOING_AWAY
        too_slow = code == frames.CLOSE_TOO_SLOW
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                # A client too slow to read is not waited for: the close frame goes behind
                # what is buffered, and the read loop ends now (no ghost in rooms/presence).
                await self.ws.close(code=code, message=self.close_reason.encode()[:120], drain=not too_slow)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass  # aiohttp has closed the transport
        transport = self._transport
        if transport is not None and transport.get_write_buffer_size():
            # transport.close() waits for its buffer to flush, forever if the peer never reads.
            linger = SLOW_LINGER if too_slow else 0.0
            asyncio.get_running_loop().call_later(linger, _abort_if_unflushed, transport)

    # ---- inbound rate limit ---------------------------------------------------------------
    def take_token(self) -> bool:
        """One inbound frame against the bucket; False (and a strike) when over the rate."""
        now = time.monotonic()
        burst, tokens = float(self.limits.burst), self._tokens
        self._tokens = burst if tokens is None else min(burst, tokens + (now - self._refilled) * self.limits.rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        if self._strikes is None:
            self._strikes = deque(maxlen=self.limits.abuse_strikes)
        self._strikes.append(now)
        return False

    @property
    def abusive(self) -> bool:
        """Rejected `abuse_strikes` times within `abuse_window`: sustained abuse."""
        strikes = self._strikes
        return (strikes is not None and len(strikes) == strikes.maxlen
                and strikes[-1] - strikes[0] <= self.limits.abuse_window)
