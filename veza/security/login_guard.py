"""Brute-force guard for login: failed attempts counted per account and per IP.

`LOGIN_MAX_FAILURES` failures within `LOGIN_FAILURE_WINDOW` seconds on either key
answer 429 (with Retry-After) before the password is even hashed. A successful login
clears the account's count but never the IP's (one known account must not launder a
password-spraying IP). Accounts are keyed by a hash of the lower-cased email, so no
address sits in Redis.
"""

from __future__ import annotations

import hashlib
import logging
import math

from veza.http.errors import RateLimited
from veza.security.counters import Counters

log = logging.getLogger("veza.login_guard")


def _account_key(email: str) -> str:
    return "login:acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class LoginGuard:
    def __init__(self, counters: Counters, *, max_failures: int, window: int) -> None:
        self.counters = counters
        self.max_failures = max_failures
        self.window = window

    async def check(self, email: str, ip: str) -> None:
        try:
            account, by_ip = await self.counters.peek((_account_key(email), "login:ip:" + ip))
        except Exception as exc:  # the store being down must not lock everyone out
            log.warning("login guard store unavailable: %r", exc)
            return
        blocked = [w for w in (account, by_ip) if w.count >= self.max_failures]
        if blocked:
            retry = max(1, math.ceil(max(w.reset_in for w in blocked)))
            raise RateLimited("Too many failed login attempts; try again later",
                              details={"retry_after_seconds": retry, "max_failures": self.max_failures},
                              headers={"Retry-After": str(retry)})

    async def failed(self, email: str, ip: str) -> None:
        try:
            await self.counters.hit((_account_key(email), "login:ip:" + ip), self.window)
        except Exception as exc:
            log.warning("login guard store unavailable: %r", exc)

    async def succeeded(self, email: str) -> None:
        try:
            await self.counters.reset(_account_key(email))
        except Exception as exc:
            log.warning("login guard store unavailable: %r", exc)
