"""Brute-force guard for login, after OWASP's authentication and credential-stuffing
cheat sheets: throttle guessing without letting anyone lock anyone else out.

Failures are counted in `LOGIN_FAILURE_WINDOW` seconds on three keys:

- account + address (`LOGIN_MAX_FAILURES`, 10): one attacker against one account. Only
  that address is held back; the owner elsewhere is not.
- address (`LOGIN_MAX_FAILURES_PER_IP`, 100): one address spraying many accounts.
- account (`LOGIN_MAX_FAILURES_PER_ACCOUNT`, 100): many addresses against one account.
  Past `LOGIN_DELAY_AFTER` of them (20: more than one address can make on its own),
  attempts on that account wait growing delays (1 s, 2 s, 4 s, ... up to
  `LOGIN_MAX_DELAY`): one attempt per delay, the others get 429 with Retry-After. Past the
  ceiling, 429 until the window ends.

The account-wide delays and ceiling spare addresses that have signed in to that account
before (kept `KNOWN_FOR` seconds): the owner at home is never slowed by a botnet, only
a first login from a new address during an attack is.

Each attempt counts as a failure before its password is even hashed, so a burst of
concurrent guesses cannot slip past a limit while the first ones are still being checked;
an attempt refused by the guard takes its counts back (it guessed nothing), and a
success takes back its own and clears its account + address count. Accounts are keyed
by a hash of the lower-cased email, so no address book sits in Redis.

Registrations are counted per address too (`registration`): each costs an argon2id hash,
and the auth routes are outside the request rate limiter.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math

from veza.config import Settings
from veza.http.errors import RateLimited
from veza.security.counters import Counters, Window

log = logging.getLogger("veza.login_guard")

KNOWN_FOR = 90 * 24 * 3600  # how long a successful (account, address) pair is remembered


@dataclasses.dataclass(frozen=True, slots=True)
class LoginLimits:
    per_account_address: int = 10
    per_address: int = 100
    per_account: int = 100
    delay_after: int = 20
    max_delay: int = 60
    window: int = 900

    def delay(self, account_failures: int) -> int:
        """Seconds between attempts on an account with this many failures (0: no delay)."""
        over = account_failures - self.delay_after
        if over <= 0:
            return 0
        return min(self.max_delay, 2 ** min(over - 1, 30))


def _account(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class _Keys:
    __slots__ = ("pair", "address", "account", "known", "slot")

    def __init__(self, email: str, ip: str) -> None:
        account = _account(email)
        self.pair = f"login:pair:{account}:{ip}"
        self.address = "login:ip:" + ip
        self.account = "login:acct:" + account
        self.known = f"login:known:{account}:{ip}"
        self.slot = "login:slot:" + account


def _refuse(message: str, window: Window, reason: str, **details: int) -> RateLimited:
    retry = max(1, math.ceil(window.reset_in))
    return RateLimited(message, details={"retry_after_seconds": retry, "reason": reason, **details},
                       headers={"Retry-After": str(retry)})


class LoginGuard:
    def __init__(self, counters: Counters, limits: LoginLimits, *, max_registrations: int,
                 registration_window: int) -> None:
        self.counters = counters
        self.limits = limits
        self.max_registrations = max_registrations
        self.registration_window = registration_window

    @classmethod
    def from_settings(cls, counters: Counters, settings: Settings) -> LoginGuard:
        limits = LoginLimits(per_account_address=settings.login_max_failures,
                             per_address=settings.login_max_failures_per_ip,
                             per_account=settings.login_max_failures_per_account,
                             delay_after=settings.login_delay_after, max_delay=settings.login_max_delay,
                             window=settings.login_failure_window)
        return cls(counters, limits, max_registrations=settings.register_max_per_ip,
                   registration_window=settings.register_window)

    async def attempt(self, email: str, ip: str) -> None:
        """Count an attempt (as a failure until `succeeded`); 429 when a limit refuses it."""
        keys, limits = _Keys(email, ip), self.limits
        try:
            pair, address, account, known = await self.counters.add(
                [(keys.pair, 1), (keys.address, 1), (keys.account, 1), (keys.known, 0)], limits.window)
            refusal = None
            if pair.count > limits.per_account_address:
                refusal = _refuse("Too many failed login attempts for this account from this address; try again later",
                                  pair, "account_address", max_failures=limits.per_account_address)
            elif address.count > limits.per_address:
                refusal = _refuse("Too many failed login attempts from this address; try again later",
                                  address, "address", max_failures=limits.per_address)
            elif known.count == 0:
                refusal = await self._account_wide(keys, account)
            if refusal is not None:  # it guessed nothing: it does not count
                await self.counters.add([(keys.pair, -1), (keys.address, -1), (keys.account, -1)], limits.window)
        except Exception as exc:  # the store being down must not lock everyone out
            log.warning("login guard store unavailable: %r", exc)
            return
        if refusal is not None:
            raise refusal

    async def _account_wide(self, keys: _Keys, account: Window) -> RateLimited | None:
        """The account's ceiling and growing delays, for an address new to this account."""
        limits = self.limits
        if account.count > limits.per_account:
            return _refuse("Too many failed login attempts on this account; try again later, or from an address "
                           "you signed in from before", account, "account", max_failures=limits.per_account)
        delay = limits.delay(account.count)
        if delay:
            # One attempt per delay: the first to take the slot goes, the rest wait for it.
            (slot,) = await self.counters.hit((keys.slot,), delay)
            if slot.count > 1:
                return _refuse("Login attempts on this account are being slowed down; try again shortly",
                               slot, "delay", delay_seconds=delay)
        return None

    async def succeeded(self, email: str, ip: str) -> None:
        keys = _Keys(email, ip)
        try:
            await self.counters.reset(keys.pair)
            await self.counters.add([(keys.address, -1), (keys.account, -1), (keys.known, 1)], KNOWN_FOR)
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
