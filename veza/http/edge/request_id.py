"""X-Request-ID: echo a sane client id or mint one; it rides in every log line
(`veza.logging_setup.request_id_var`, which is also where code reads the current one)."""

from __future__ import annotations

import itertools
import re
import secrets

HEADER = "X-Request-ID"
_SAFE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")  # fullmatch: `$` would let a trailing newline in

# A random prefix per process and a decimal counter: unique across nodes and restarts,
# and far cheaper than uuid4 (a getrandom syscall per request) or hex formatting. An
# iterator of C calls only: `next(NEW_IDS)` mints one without a Python frame.
NEW_IDS = map((secrets.token_hex(8) + "-").__add__, map(str, itertools.count(1)))


def is_safe(incoming: str) -> bool:
    """A client's id fit to echo and to log (else the edge mints a new one)."""
    return _SAFE.fullmatch(incoming) is not None
