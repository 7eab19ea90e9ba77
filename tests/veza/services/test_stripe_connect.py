"""What a Stripe error means for the money, and the balance cache."""

from __future__ import annotations

import asyncio

import pytest
import stripe

from veza.services.stripe_connect import Balance, ConnectError
from veza.services.stripe_connect.balance_cache import BalanceCache
from veza.services.stripe_connect.client import classify


@pytest.mark.parametrize(("error", "outcome"), [
    (stripe.APIConnectionError("timed out"), "unknown"),
    (stripe.APIError("boom", http_status=500), "unknown"),
    (stripe.APIError("bad gateway", http_status=502), "unknown"),
    (stripe.APIError("in flight", http_status=409), "unknown"),
    (stripe.RateLimitError("slow down", http_status=429), "transient"),
    (stripe.InvalidRequestError("no funds", None, code="balance_insufficient", http_status=400), "transient"),
    (stripe.AuthenticationError("bad key", http_status=401), "transient"),
    (stripe.IdempotencyError("other params", http_status=400), "transient"),
    (stripe.InvalidRequestError("no capability", None, code="insufficient_capabilities_for_transfer",
                                http_status=400), "permanent"),
    (stripe.InvalidRequestError("gone", None, code="account_invalid", http_status=400), "permanent"),
    (stripe.PermissionError("rejected", http_status=403), "permanent"),
])
def test_stripe_errors_are_classified(error: stripe.StripeError, outcome: str) -> None:
    found = classify(error)
    assert isinstance(found, ConnectError) and found.outcome == outcome


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_cache_answers_for_its_ttl_and_shares_one_fetch() -> None:
    clock = Clock()
    cache = BalanceCache(ttl=30, clock=clock)
    calls = 0
    gate = asyncio.Event()

    async def fetch() -> Balance:
        nonlocal calls
        calls += 1
        await gate.wait()
        return Balance(available=calls, pending=0)

    waiting = [asyncio.create_task(cache.get("acct_1", fetch)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert {b.available for b in await asyncio.gather(*waiting)} == {1} and calls == 1
    clock.now += 29.9
    assert (await cache.get("acct_1", fetch)).available == 1
    clock.now += 0.1
    assert (await cache.get("acct_1", fetch)).available == 2
    cache.forget("acct_1")
    assert (await cache.get("acct_1", fetch)).available == 3


async def test_failures_are_not_cached_and_the_cache_is_bounded() -> None:
    cache = BalanceCache(ttl=30, max_entries=3, clock=Clock())

    async def failing() -> Balance:
        raise ConnectError("unknown", "down")

    with pytest.raises(ConnectError):
        await cache.get("acct_1", failing)

    async def ok() -> Balance:
        return Balance(1, 2)

    assert await cache.get("acct_1", ok) == Balance(1, 2)
    for n in range(10):
        await cache.get(f"acct_{n + 2}", ok)
    assert len(cache._entries) == 3
