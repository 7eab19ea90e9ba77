"""Brute-force guard for login: attempts counted per account and per IP.

Each attempt counts as a failure before its password is even hashed, and is taken back
when it succeeds: concurrent guesses all count, so a burst of them cannot slip past the
limit while the first ones are still being checked. Over `LOGIN_MAX_FAILURES` within
`LOGIN_FAILURE_WINDOW` seconds on either key answers 429 (with Retry-After). A success
clears the account's count; of the IP's it takes back only its own attempt (one known
account must not launder a password-spraying IP). Accounts are keyed by a hash of the
lower-cased email, so no address sits in Redis.

Registrations are counted per IP too (`registration`): each costs an argon2id hash, and
the auth routes are outside the request rate limiter.
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


def _ip_key(ip: str) -> str:
    return "login:ip:" + ip


class LoginGuard:
    def __init__(self, counters: Counters, *, max_failures: int, window: int,
                 max_registrations: int, registration_window: int) -> None:
        self.counters = counters
        self.max_failures = max_failures
        self.window = window
        self.max_registrations = max_registrations
        self.registration_window = registration_window

    async def attempt(self, email: str, ip: str) -> None:
        """Count an attempt (as a failure until `succeeded`); 429 once over the limit."""
        try:
            counts = await self.counters.hit((_account_key(email), _ip_key(ip)), self.window)
        except Exception as exc:  # the store being down must not lock everyone out
            log.warning("login guard store unavailable: %r", exc)
            return
        blocked = [w for w in counts if w.count > self.max_failures]
        if blocked:
            retry = max(1, math.ceil(max(w.reset_in for w in blocked)))
            raise RateLimited("Too many failed login attempts; try again later",
                              details={"retry_after_seconds": retry, "max_failures": self.max_failures},
                              headers={"Retry-After": str(retry)})

    async def succeeded(self, email: str, ip: str) -> None:
        try:
            await self.counters.reset(_account_key(email))
            await self.counters.hit((_ip_key(ip),), self.window, amount=-1)
        except Exception as exc:
            log.warning("login guard store unavailable: %r", exc)

    async def registration(self, ip: str) -> None:
        """Count a registration from `ip` (before its password is hashed); 429 once over the limit."""
        try:
            (count,) = await self.counters.hit(("register:ip:" + ip,), self.registration_window)
        except Exception as exc:  # the store being down must not stop sign-ups
            log.warning("login guard store unavailable: %r", exc)
            return
        if count.count > self.max_registrations:
            retry = max(1, math.ceil(count.reset_in))
            raise RateLimited("Too many registrations from this address; try again later",
                              details={"retry_after_seconds": retry, "max_registrations": self.max_registrations},
                              headers={"Retry-After": str(retry)})
