"""The payout rules that need no database: the retry schedule and what an attempt is."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from veza.domain.payouts import RetryPolicy, kind_of, new_key

NOW = dt.datetime(2026, 2, 23, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("retry", "jitter", "seconds"), [
    (1, 0.0, 15.0), (1, 0.999999, 29.99997), (2, 0.0, 30.0), (3, 0.5, 90.0), (4, 0.0, 120.0),
    (7, 0.0, 960.0), (8, 0.0, 1800.0), (12, 1.0, 3600.0),  # capped at 3600 from retry 8 (30 x 2^7 = 3840)
    (10_000, 0.0, 1800.0),  # no overflow however long it has failed
])
def test_retry_waits_double_up_to_the_cap_with_jitter_in_the_upper_half(retry: int, jitter: float,
                                                                        seconds: float) -> None:
    policy = RetryPolicy(base=30.0, cap=3600.0, max_retries=100_000)
    assert policy.delay(retry, jitter) == pytest.approx(seconds)
    assert policy.next_retry(NOW, retry, jitter) == NOW + dt.timedelta(seconds=policy.delay(retry, jitter))


def test_no_retry_past_the_maximum_or_when_retries_are_off() -> None:
    policy = RetryPolicy(max_retries=8)
    assert policy.next_retry(NOW, 8, 0.0) is not None
    assert policy.next_retry(NOW, 9, 0.0) is None
    assert RetryPolicy(enabled=False).next_retry(NOW, 1, 0.0) is None
    assert RetryPolicy(max_retries=0).next_retry(NOW, 1, 0.0) is None


@pytest.mark.parametrize(("status", "key", "order_status", "kind"), [
    ("pending", None, "paid", "transfer"),
    ("failed", None, "paid", "transfer"),
    ("failed", "k", "paid", "transfer"),  # unknown outcome: looked up, then asked with the same key
    ("processing", "k", "paid", "transfer"),  # a dead worker's lease
    ("processing", "k", "refunded", "recovery"),  # refunded meanwhile: look up, never pay anew
    ("failed", "k", "refunded", "recovery"),
    ("canceled", "k", "refunded", "recovery"),
    ("reversal_pending", None, "refunded", "reversal"),
    ("reversal_pending", "k", "refunded", "reversal"),
])
def test_what_an_attempt_does(status: str, key: str | None, order_status: str, kind: str) -> None:
    assert kind_of({"status": status, "idempotency_key": key, "order_status": order_status}) == kind


def test_each_attempt_gets_its_own_key() -> None:
    transfer_id = uuid.uuid4()
    keys = {new_key("transfer", transfer_id) for _ in range(50)}
    assert len(keys) == 50 and all(str(transfer_id) in k and len(k) <= 255 for k in keys)
    assert new_key("reversal", transfer_id).startswith("veza_reversal_")
