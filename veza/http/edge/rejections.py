"""Requests aiohttp itself rejects (a NUL in a header, an 8 KB URL, TLS on the HTTP port)
never reach a route: aiohttp answers 400 and logs the parser's exception with its
traceback. That is the client's error, not ours, so it becomes one line: who sent it,
the status and the parser's reason (cut short, on one line: it quotes the bad input).

A filter on aiohttp's server logger rather than a protocol subclass: aiohttp has no
public hook for its parser errors, and the log call is the one thing we want changed.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

SERVER_LOGGER = "aiohttp.server"
REASON_MAX = 160


class MalformedRequests(logging.Filter):
    """Rewrites aiohttp's record of a rejected request into one line, without traceback;
    leaves every other record alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        reason = " ".join(str(exc.message).split())
        if len(reason) > REASON_MAX:
            reason = reason[:REASON_MAX] + "..."
        record.msg = "rejected a malformed request from %s: %s %s (%s)"
        record.args = (remote, exc.code, type(exc).__name__, reason)
        record.exc_info = record.exc_text = None
        record.stack_info = None
        if record.levelno > logging.INFO:  # aiohttp says ERROR (DEBUG for TLS probes: kept)
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def install() -> None:
    """Once per process, however many apps are built (tests build hundreds)."""
    logger = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(f, MalformedRequests) for f in logger.filters):
        logger.addFilter(MalformedRequests())
