"""Slow request bodies: a total deadline and a minimum rate, then 408 and the connection closed.

aiohttp waits for a body as long as the client keeps the connection open, so valid
headers announcing a megabyte and then a byte every ten seconds hold a connection (and
the handler awaiting the body) for as long as the client likes. The edge watches every
request whose body had not fully arrived when its handler started (most JSON bodies
arrive with their headers: those cost nothing here):

- the whole body within `BODY_READ_TIMEOUT` seconds;
- at least `BODY_MIN_RATE` bytes a second, measured over each `BODY_RATE_WINDOW`;

otherwise the body's reader fails (the handler's pending read raises), the answer is a
408 in the envelope and the connection is closed after it. A window in which the body
did not arrive because our own handler had not read what was already buffered (an
upload being written out slower than it comes) does not count against the client.

One timer per watched request, re-armed once a window, none at all for the rest.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from aiohttp import StreamReader, web

from veza import keys
from veza.http.envelope import error_response
from veza.logging_setup import request_id_var

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("veza.http")

STATUS = 408
CODE = "request_timeout"


class BodyTimeout(TimeoutError):
    """What the body's reader raises once the deadline or the rate is missed. A TimeoutError:
    aiohttp's own lingering read after the answer treats it as the timeout it is."""


@dataclasses.dataclass(frozen=True, slots=True)
class BodyLimits:
    timeout: float = 900.0
    min_rate: int = 1024
    window: float = 10.0


class BodyWatch:
    """The deadline of one request's body; `expired` once it was missed."""

    __slots__ = ("content", "limits", "started", "seen", "expired", "reason", "_timer", "_loop")

    def __init__(self, content: StreamReader, limits: BodyLimits) -> None:
        self.content = content
        self.limits = limits
        self._loop = asyncio.get_running_loop()
        self.started = self._loop.time()
        self.seen = content.total_bytes
        self.expired = False
        self.reason = ""
        self._timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        left = self.started + self.limits.timeout - self._loop.time()
        self._timer = self._loop.call_later(max(min(self.limits.window, left), 0.0), self._check)

    def _check(self) -> None:
        self._timer = None
        content = self.content
        if content.is_eof() or content.exception() is not None:
            return  # arrived (or failed on its own): nothing left to watch
        received, self.seen = content.total_bytes - self.seen, content.total_bytes
        if self._loop.time() - self.started >= self.limits.timeout:
            return self._expire(f"not complete within {self.limits.timeout:g} s")
        if received < self.limits.min_rate * self.limits.window and not self._we_are_behind():
            return self._expire(f"under {self.limits.min_rate} bytes/s for {self.limits.window:g} s")
        self._arm()

    def _we_are_behind(self) -> bool:
        """The reader holds at least its low-water mark unread: flow control stopped reading
        the socket because the handler is slow, not the client. (`_size` is the reader's
        buffered byte count; without it every window counts, the strict side.)"""
        low, _ = self.content.get_read_buffer_limits()
        return getattr(self.content, "_size", 0) >= low

    def _expire(self, reason: str) -> None:
        self.expired, self.reason = True, reason
        self.content.set_exception(BodyTimeout(reason))

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def limits_of(app: web.Application) -> BodyLimits:
    s = app[keys.settings]
    return BodyLimits(timeout=s.body_read_timeout, min_rate=s.body_min_rate, window=s.body_rate_window)


def timed_out(request: web.Request, watch: BodyWatch) -> web.Response:
    log.info("request body too slow, closing: %s %s (%s)", request.method, request.path, watch.reason)
    response = error_response(STATUS, CODE, "Request body not received in time", details={"body": watch.reason},
                              request_id=request_id_var.get())
    response.force_close()  # the rest of the body is never read: the connection cannot be reused
    return response


async def watched(handler: Handler, request: web.Request) -> web.StreamResponse:
    """Run `handler` with its body on the clock (call only when the body is still arriving)."""
    watch = BodyWatch(request.content, limits_of(request.app))
    try:
        response = await handler(request)
    except BodyTimeout:
        return timed_out(request, watch)
    except Exception:
        if watch.expired:  # the handler turned the failed read into an error of its own
            return timed_out(request, watch)
        raise
    finally:
        watch.stop()
    if watch.expired and not response.prepared:
        return timed_out(request, watch)
    return response
