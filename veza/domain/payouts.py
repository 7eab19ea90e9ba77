"""Paying sellers: the payout worker's rules, and an admin's manual retry.

A transfer row (one per seller of a paid order, created by the marketplace) moves:

    pending -> processing -> completed -> reversal_pending -> reversed   (refunded order)
                   |   ^
                   v   |  retry at next_retry_at
                 failed  -> canceled (refunded before it was paid)

Never twice:
- A worker claims due rows with `FOR UPDATE SKIP LOCKED` and, in the same transaction,
  leases each to one attempt: status `processing`, `next_retry_at` = end of the lease,
  and the attempt's idempotency key stored before Stripe is called.
- A known outcome (paid, or a failure Stripe answered) clears the key: the next attempt
  gets a new one, since Stripe replays a stored error for a reused key.
- An unknown outcome (timeout, 5xx, the node died and its lease ran out) keeps the key:
  the next attempt first looks the transfer up by its `transfer_group` (the order id) and
  our row id in its metadata, and only then asks again with the same key.
- A refund and the end of an attempt take turns on the order's row lock: a transfer that
  completes for a refunded order goes straight to `reversal_pending`; a known failure of
  one is `canceled`; a row canceled while its outcome was unknown is looked up, and
  reversed if it had been paid after all.

Retries: a failure that may pass (`balance_insufficient`, 429, 5xx, timeouts) is `failed`
with `retry_count + 1` and `next_retry_at = now + min(base x 2^n, cap)` jittered to between
half and all of it, up to `max_retries`; one that cannot (missing capabilities, a rejected
account) has no next retry. A failure with no retry left tells the seller
(`transfer_failed`). Reversals retry until they succeed, money owed back cannot be dropped.
`retry_count` counts retries: each failure adds the one it schedules, an admin's retry adds
itself. Time comes from an injected clock, jitter from an injected source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any, Literal
from uuid import UUID

from veza.domain import notifications
from veza.domain.errors import Conflict, NotFound
from veza.domain.unit_of_work import unit_of_work
from veza.services.stripe_connect import Connect, ConnectError, ProviderTransfer
from veza.store import payouts as store

log = logging.getLogger("veza.payouts")

Clock = Callable[[], dt.datetime]
Kind = Literal["transfer", "reversal", "recovery"]
OUTCOMES = {"transient": "failed_transient", "permanent": "failed_permanent", "unknown": "unknown"}
MAX_ERROR = 500


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    enabled: bool = True
    max_retries: int = 8
    base: float = 30.0  # seconds before the first retry
    cap: float = 6 * 3600.0  # the longest wait between two attempts

    def delay(self, retry: int, jitter: float) -> float:
        """Seconds to wait before retry number `retry` (1 = the first): min(base x 2^(retry-1),
        cap), scaled into its upper half by `jitter` in [0, 1)."""
        ceiling = min(self.base * 2 ** min(max(retry - 1, 0), 62), self.cap)
        return ceiling / 2 + ceiling / 2 * jitter

    def next_retry(self, now: dt.datetime, retry: int, jitter: float) -> dt.datetime | None:
        """When retry number `retry` runs, or None when none is left."""
        if not self.enabled or retry > self.max_retries:
            return None
        return now + dt.timedelta(seconds=self.delay(retry, jitter))


@dataclasses.dataclass(frozen=True, slots=True)
class Timing:
    """Where the payout rules read the time and their jitter (tests inject both)."""
    clock: Clock = utcnow
    jitter: Callable[[], float] = random.random


@dataclasses.dataclass(frozen=True, slots=True)
class Payer:
    """What paying needs: the database, Connect, the retry policy, the seller's live push."""
    db: Any
    connect: Connect
    policy: RetryPolicy
    notify: Callable[[dict[str, Any]], Any]
    clock: Clock = utcnow
    jitter: Callable[[], float] = random.random
    lease: float = 120.0  # seconds an attempt holds its row before another worker may take it over
    batch: int = 20
    settled: Callable[[str], Any] = lambda account_id: None  # money moved for this account (a cached balance is stale)


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    row: dict[str, Any]  # the row as claimed, before the attempt started
    kind: Kind
    key: str
    unknown: bool  # an earlier attempt's outcome is not known: look it up first
    attempt_id: UUID
    manual: bool


def new_key(kind: Kind, transfer_id: UUID) -> str:
    return f"veza_{'reversal' if kind == 'reversal' else 'transfer'}_{transfer_id}_{secrets.token_hex(8)}"


def kind_of(row: dict[str, Any]) -> Kind:
    """What an attempt on the row does: pay, reverse, or find out whether an attempt whose
    outcome is unknown paid an order that was refunded since (look up, never pay anew)."""
    if row["status"] == "reversal_pending":
        return "reversal"
    if row["status"] == "canceled" or (row["idempotency_key"] is not None and row["order_status"] == "refunded"):
        return "recovery"
    return "transfer"


RECOVERING = ("canceled", "processing")


async def _start(conn: Any, payer: Payer, row: dict[str, Any], now: dt.datetime, *, triggered_by: UUID | None,
                 manual: bool) -> Job:
    kind = kind_of(row)
    key = row["idempotency_key"] or new_key(kind, row["id"])
    attempt_id = await store.start(conn, row["id"], kind="reversal" if kind == "reversal" else "transfer", key=key,
                                   lease_until=now + dt.timedelta(seconds=payer.lease), now=now,
                                   triggered_by=triggered_by, bump_retry=manual)
    return Job(row, kind, key, row["idempotency_key"] is not None, attempt_id, manual)


async def run_due(payer: Payer) -> int:
    """One round of the worker: claim what is due, lease it, attempt each. Rows attempted."""
    now = payer.clock()
    async with payer.db.transaction() as conn:
        rows = await store.claim_due(conn, now, payer.batch)
        jobs = [await _start(conn, payer, row, now, triggered_by=None, manual=False) for row in rows]
    for job in jobs:
        await attempt(payer, job)
    return len(jobs)


async def retry_now(payer: Payer, transfer_id: UUID, admin_id: UUID) -> dict[str, Any]:
    """An admin runs a failed transfer now; its row as it ended."""
    async with payer.db.transaction() as conn:
        row = await store.lock_one(conn, transfer_id)
        if row is None:
            raise NotFound("Transfer not found")
        if row["status"] != "failed":
            raise Conflict(f"Only a failed transfer can be retried; this one is {row['status']}",
                           details={"status": row["status"]})
        if not row["payouts_enabled"]:
            raise Conflict("The seller's account cannot receive payouts yet", details={"status": row["status"]})
        if row["order_status"] != "paid" and row["idempotency_key"] is None:
            raise Conflict(f"The order is {row['order_status']}; only a paid order's transfer is paid",
                           details={"order_status": row["order_status"]})
        job = await _start(conn, payer, row, payer.clock(), triggered_by=admin_id, manual=True)
    await attempt(payer, job)
    async with payer.db.connection() as conn:
        ended = await store.get(conn, transfer_id)
    assert ended is not None
    return ended


async def attempt(payer: Payer, job: Job) -> None:
    """Call Connect for the job, then record what came of it."""
    if job.kind == "reversal":
        await _reverse(payer, job)
        return
    row = job.row
    try:
        found = None
        if job.unknown:
            found = await payer.connect.find_transfer(transfer_group=str(row["order_id"]),
                                                      destination=row["account_id"], transfer_id=str(row["id"]))
        if found is None and job.kind == "recovery":
            await _not_paid(payer, job)
            return
        result = found or await payer.connect.create_transfer(
            amount=row["amount_cents"], currency=row["currency"], destination=row["account_id"],
            transfer_group=str(row["order_id"]), idempotency_key=job.key,
            metadata={"transfer_id": str(row["id"]), "order_id": str(row["order_id"])})
    except ConnectError as exc:
        await _failed(payer, job, exc)
    else:
        await _paid(payer, job, result)


async def _paid(payer: Payer, job: Job, result: ProviderTransfer) -> None:
    row = job.row
    if result.amount != row["amount_cents"]:
        log.error("transfer %s: Stripe holds %s for it, our row says %s", row["id"], result.amount, row["amount_cents"])
    now = payer.clock()
    async with payer.db.transaction() as conn:
        refunded = await store.order_status(conn, row["order_id"]) == "refunded" or job.kind == "recovery"
        settled = await store.settle(
            conn, row["id"], job.key, source=RECOVERING if job.kind == "recovery" else ("processing",),
            status="reversal_pending" if refunded else "completed", next_retry_at=now if refunded else None, now=now,
            provider_transfer_id=result.id)
        await store.finish_attempt(conn, job.attempt_id, outcome="succeeded", now=now, provider_id=result.id)
    payer.settled(row["account_id"])
    if settled is None:
        log.warning("transfer %s: paid as %s, but another worker had taken the row over", row["id"], result.id)
    else:
        log.info("transfer %s paid: %s (%s)", row["id"], result.id, settled["status"])


async def _not_paid(payer: Payer, job: Job) -> None:
    """A row canceled while its outcome was unknown, and Stripe has no such transfer: it stays canceled."""
    now = payer.clock()
    async with payer.db.transaction() as conn:
        await store.settle(conn, job.row["id"], job.key, source=RECOVERING, status="canceled", now=now)
        await store.finish_attempt(conn, job.attempt_id, outcome="failed_permanent", now=now,
                                   error="the order was refunded before this transfer was made")


async def _failed(payer: Payer, job: Job, exc: ConnectError) -> None:
    row = job.row
    now = payer.clock()
    error = exc.describe()[:MAX_ERROR]
    unknown = exc.outcome == "unknown"
    retry = row["retry_count"] + 1  # this failure's retry (a manual retry already counted itself)
    delta = 0 if job.manual else 1
    async with unit_of_work(payer.db) as uow:
        conn = uow.conn
        order_status = await store.order_status(conn, row["order_id"])
        if job.kind == "recovery":  # still not known whether it was paid: look again later
            settled = await store.settle(conn, row["id"], job.key, source=RECOVERING, status="canceled",
                                         keep_key=True, now=now, error=error,
                                         next_retry_at=now + dt.timedelta(seconds=payer.policy.delay(1, payer.jitter())))
        elif order_status == "refunded":  # nothing is owed any more; if it was paid, recovery reverses it
            settled = await store.settle(conn, row["id"], job.key, source=("processing",), status="canceled",
                                         keep_key=unknown, now=now, error=error)
        else:
            next_retry = None if exc.outcome == "permanent" else payer.policy.next_retry(now, retry, payer.jitter())
            settled = await store.settle(conn, row["id"], job.key, source=("processing",), status="failed",
                                         keep_key=unknown, next_retry_at=next_retry, retry_count_delta=delta,
                                         now=now, error=error)
            if settled is not None and next_retry is None:
                await _tell_seller(uow, payer, settled, error)
        await store.finish_attempt(conn, job.attempt_id, outcome=OUTCOMES[exc.outcome], now=now, error=error)
    log.warning("transfer %s attempt failed (%s): %s%s", row["id"], exc.outcome, error,
                "" if settled is not None else " (the row had been taken over)")


async def _tell_seller(uow: Any, payer: Payer, transfer: dict[str, Any], error: str) -> None:
    if transfer["seller_id"] is None:
        return
    await notifications.notify(uow, payer.notify, user_id=transfer["seller_id"], actor_id=None, kind="transfer_failed",
                               subject_id=transfer["id"], data={
                                   "transfer_id": str(transfer["id"]), "order_id": str(transfer["order_id"]),
                                   "amount_cents": transfer["amount_cents"], "currency": transfer["currency"],
                                   "retry_count": transfer["retry_count"], "reason": error})


async def _reverse(payer: Payer, job: Job) -> None:
    row = job.row
    source = row["provider_transfer_id"]
    try:
        if source is None:
            raise ConnectError("permanent", "no provider transfer to reverse")
        reversal = await payer.connect.find_reversal(source, str(row["id"])) if job.unknown else None
        reversal = reversal or await payer.connect.reverse_transfer(
            source, amount=row["amount_cents"], idempotency_key=job.key,
            metadata={"transfer_id": str(row["id"]), "order_id": str(row["order_id"])})
    except ConnectError as exc:
        now = payer.clock()
        error = exc.describe()[:MAX_ERROR]
        next_retry = None if exc.outcome == "permanent" else now + dt.timedelta(
            seconds=payer.policy.delay(row["reversal_failures"] + 1, payer.jitter()))
        async with payer.db.transaction() as conn:
            await store.settle(conn, row["id"], job.key, source=("reversal_pending",), status="reversal_pending",
                               keep_key=exc.outcome == "unknown", next_retry_at=next_retry, now=now, error=error)
            await store.finish_attempt(conn, job.attempt_id, outcome=OUTCOMES[exc.outcome], now=now, error=error)
        (log.error if next_retry is None else log.warning)("reversal of transfer %s failed (%s): %s", row["id"],
                                                           exc.outcome, error)
        return
    now = payer.clock()
    async with payer.db.transaction() as conn:
        await store.settle(conn, row["id"], job.key, source=("reversal_pending",), status="reversed", now=now,
                           provider_reversal_id=reversal)
        await store.finish_attempt(conn, job.attempt_id, outcome="succeeded", now=now, provider_id=reversal)
    if row["account_id"] is not None:
        payer.settled(row["account_id"])
    log.info("transfer %s reversed: %s", row["id"], reversal)
