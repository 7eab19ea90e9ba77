"""X-Request-ID: echo a sane client id or mint one; it rides in every log line."""

from __future__ import annotations

import itertools
import re
import secrets

HEADER = "X-Request-ID"
_SAFE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# A random prefix per process and a counter: unique across nodes and restarts, and far
# cheaper than uuid4 (a getrandom syscall per request).
_PREFIX = secrets.token_hex(8)
_counter = itertools.count(1)


def new_id() -> str:
    return _PREFIX + format(next(_counter), "016x")


def of(incoming: str | None) -> str:
    """The client's id when it is sane, else a new one."""
    return incoming if incoming and _SAFE.match(incoming) else new_id()
