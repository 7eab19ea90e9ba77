"""Seller accounts, payout transfers and their attempts.

Times come from the caller (`now`): the payout rules run on an injected clock. Every
status change is conditional (`WHERE status = ... AND idempotency_key IS NOT DISTINCT FROM
...`), so a worker whose lease another node took over changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

_ACCOUNT = ("user_id, provider, account_id, charges_enabled, payouts_enabled, details_submitted, synced_at,"
            " created_at, updated_at")
_TRANSFER = ("t.id, t.seller_id, t.order_id, t.amount_cents, t.platform_fee_cents, t.currency, t.status,"
             " t.retry_count, t.next_retry_at, t.idempotency_key, t.provider_transfer_id, t.provider_reversal_id,"
             " t.last_error, t.created_at, t.updated_at")


# Seller accounts.

async def get_account(conn: asyncpg.Connection, user_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_ACCOUNT} FROM seller_accounts WHERE user_id = $1", user_id)
    return dict(row) if row else None


async def insert_account(conn: asyncpg.Connection, user_id: UUID, provider: str, account_id: str, *,
                         charges_enabled: bool, payouts_enabled: bool, details_submitted: bool) -> dict[str, Any]:
    """The user's account: this one, or the one a concurrent first call stored."""
    await conn.execute(
        "INSERT INTO seller_accounts (user_id, provider, account_id, charges_enabled, payouts_enabled,"
        " details_submitted) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        user_id, provider, account_id, charges_enabled, payouts_enabled, details_submitted)
    account = await get_account(conn, user_id)
    assert account is not None
    return account


async def sync_account(conn: asyncpg.Connection, account_id: str, *, charges_enabled: bool, payouts_enabled: bool,
                       details_submitted: bool, at: dt.datetime) -> tuple[dict[str, Any], bool] | None:
    """(the account, whether payouts became enabled), or None when the account is unknown or
    `at` is older than the state already applied (an event that arrived late)."""
    row = await conn.fetchrow(
        "WITH old AS (SELECT user_id, payouts_enabled FROM seller_accounts WHERE account_id = $1 FOR UPDATE)"
        " UPDATE seller_accounts s SET charges_enabled = $2, payouts_enabled = $3, details_submitted = $4,"
        " synced_at = $5, updated_at = now() FROM old"
        " WHERE s.user_id = old.user_id AND (s.synced_at IS NULL OR s.synced_at <= $5)"
        f" RETURNING {', '.join('s.' + c.strip() for c in _ACCOUNT.split(','))}, old.payouts_enabled AS was_enabled",
        account_id, charges_enabled, payouts_enabled, details_submitted, at)
    if row is None:
        return None
    account = dict(row)
    was_enabled = account.pop("was_enabled")
    return account, account["payouts_enabled"] and not was_enabled


# Transfers: the worker's claims. A row is due when it is
# - pending or failed with a retry scheduled, its order paid and its seller able to receive payouts
#   (a failed row whose outcome is unknown is resolved whatever became of its order);
# - processing past its lease (the node that took it died or stalled: the outcome is unknown);
# - canceled while an attempt's outcome was unknown (a refund came meanwhile: was it paid?);
# - reversal_pending with its next attempt due.

# Who is paid: the seller's account, or for an erased seller the account that erasure
# copied onto the row (0910).
_PAYEE_JOIN = " LEFT JOIN seller_accounts a ON a.user_id = t.seller_id"
_PAYEE_ACCOUNT = "coalesce(a.account_id, t.payout_account)"
_PAYEE_ENABLED = "coalesce(a.payouts_enabled, t.payout_account IS NOT NULL)"

_DUE = f"""
    (t.status = 'pending' OR (t.status = 'failed' AND t.next_retry_at IS NOT NULL))
        AND (t.next_retry_at IS NULL OR t.next_retry_at <= $1)
        AND (o.status = 'paid' OR t.idempotency_key IS NOT NULL)
        AND {_PAYEE_ENABLED}
    OR t.status = 'processing' AND t.next_retry_at <= $1
    OR t.status = 'canceled' AND t.idempotency_key IS NOT NULL AND (t.next_retry_at IS NULL OR t.next_retry_at <= $1)
    OR t.status = 'reversal_pending' AND t.next_retry_at <= $1
"""
_REVERSAL_FAILURES = ("(SELECT count(*) FROM transfer_attempts x WHERE x.transfer_id = t.id AND x.kind = 'reversal'"
                      " AND x.outcome IN ('failed_transient', 'unknown')) AS reversal_failures")


async def claim_due(conn: asyncpg.Connection, now: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """Due rows, oldest first, locked so that two workers never take the same one; the caller
    leases them (`start`) in the same transaction."""
    rows = await conn.fetch(
        f"SELECT {_TRANSFER}, {_PAYEE_ACCOUNT} AS account_id, o.status AS order_status, {_REVERSAL_FAILURES}"
        f" FROM transfers t JOIN orders o ON o.id = t.order_id{_PAYEE_JOIN}"
        " WHERE t.status IN ('pending', 'failed', 'processing', 'canceled', 'reversal_pending')"
        f" AND ({_DUE}) AND (t.status IN ('reversal_pending', 'canceled') OR {_PAYEE_ACCOUNT} IS NOT NULL)"
        " ORDER BY t.next_retry_at NULLS FIRST, t.created_at LIMIT $2 FOR UPDATE OF t SKIP LOCKED", now, limit)
    return [dict(r) for r in rows]


async def lock_one(conn: asyncpg.Connection, transfer_id: UUID) -> dict[str, Any] | None:
    """One row for a manual retry, locked; None when it does not exist. A row another worker
    holds is waited for (its claim commits at once)."""
    row = await conn.fetchrow(
        f"SELECT {_TRANSFER}, {_PAYEE_ACCOUNT} AS account_id, {_PAYEE_ENABLED} AS payouts_enabled,"
        f" o.status AS order_status, 0 AS reversal_failures FROM transfers t JOIN orders o ON o.id = t.order_id"
        f"{_PAYEE_JOIN} WHERE t.id = $1 FOR UPDATE OF t", transfer_id)
    return dict(row) if row else None


async def start(conn: asyncpg.Connection, transfer_id: UUID, *, kind: str, key: str, lease_until: dt.datetime,
                now: dt.datetime, triggered_by: UUID | None, bump_retry: bool) -> UUID:
    """Lease the row to this attempt and record the attempt as started; the attempt's id."""
    await conn.execute(
        "UPDATE transfers SET status = CASE WHEN status IN ('pending', 'failed', 'processing') THEN 'processing'"
        " ELSE status END, idempotency_key = $2, next_retry_at = $3,"
        " retry_count = retry_count + CASE WHEN $5 THEN 1 ELSE 0 END, updated_at = $4 WHERE id = $1",
        transfer_id, key, lease_until, now, bump_retry)
    return await conn.fetchval(
        "INSERT INTO transfer_attempts (transfer_id, kind, idempotency_key, triggered_by, outcome, started_at)"
        " VALUES ($1, $2, $3, $4, 'started', $5) RETURNING id", transfer_id, kind, key, triggered_by, now)


async def finish_attempt(conn: asyncpg.Connection, attempt_id: UUID, *, outcome: str, now: dt.datetime,
                         error: str | None = None, provider_id: str | None = None) -> None:
    await conn.execute("UPDATE transfer_attempts SET outcome = $2, error = $3, provider_id = $4, finished_at = $5"
                       " WHERE id = $1", attempt_id, outcome, error, provider_id, now)


async def order_status(conn: asyncpg.Connection, order_id: UUID) -> str:
    """The order's status, share-locked: a refund (which locks the order) and the end of an
    attempt take turns, so the refund sees the attempt's result or the attempt the refund's."""
    return await conn.fetchval("SELECT status FROM orders WHERE id = $1 FOR SHARE", order_id)


async def settle(conn: asyncpg.Connection, transfer_id: UUID, key: str, *, source: tuple[str, ...], status: str,
                 now: dt.datetime, next_retry_at: dt.datetime | None = None, keep_key: bool = False,
                 retry_count_delta: int = 0, error: str | None = None, provider_transfer_id: str | None = None,
                 provider_reversal_id: str | None = None) -> dict[str, Any] | None:
    """End the attempt holding `key`: the row moves from one of `source` to `status`. None when
    the row is no longer this attempt's (another worker took over its lease)."""
    row = await conn.fetchrow(
        "UPDATE transfers SET status = $4, next_retry_at = $5,"
        " idempotency_key = CASE WHEN $6 THEN idempotency_key ELSE NULL END, retry_count = retry_count + $7,"
        " last_error = $8, provider_transfer_id = coalesce($9, provider_transfer_id),"
        " provider_reversal_id = coalesce($10, provider_reversal_id), updated_at = $11"
        " WHERE id = $1 AND idempotency_key = $2 AND status = ANY($3::text[])"
        " RETURNING id, seller_id, order_id, amount_cents, platform_fee_cents, currency, status, retry_count,"
        " next_retry_at, created_at",
        transfer_id, key, list(source), status, next_retry_at, keep_key, retry_count_delta, error,
        provider_transfer_id, provider_reversal_id, now)
    return dict(row) if row else None


# Reading.

_PUBLIC = ("t.id, t.seller_id, t.order_id, t.amount_cents, t.platform_fee_cents, t.currency, t.status,"
           " t.retry_count, t.next_retry_at, t.last_error, t.created_at, t.updated_at")


async def get(conn: asyncpg.Connection, transfer_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_TRANSFER} FROM transfers t WHERE t.id = $1", transfer_id)
    return dict(row) if row else None


async def search(conn: asyncpg.Connection, *, seller_id: UUID | None, status: str | None,
                 created_from: dt.datetime | None, created_to: dt.datetime | None, limit: int,
                 offset: int) -> tuple[list[dict[str, Any]], int]:
    """Newest first, with the total of rows that match."""
    where = ("($1::uuid IS NULL OR t.seller_id = $1) AND ($2::text IS NULL OR t.status = $2)"
             " AND ($3::timestamptz IS NULL OR t.created_at >= $3) AND ($4::timestamptz IS NULL OR t.created_at < $4)")
    args = (seller_id, status, created_from, created_to)
    rows = await conn.fetch(f"SELECT {_PUBLIC} FROM transfers t WHERE {where}"
                            " ORDER BY t.created_at DESC, t.id DESC LIMIT $5 OFFSET $6", *args, limit, offset)
    total = await conn.fetchval(f"SELECT count(*) FROM transfers t WHERE {where}", *args)
    return [dict(r) for r in rows], total


async def attempts(conn: asyncpg.Connection, transfer_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT x.id, x.kind, x.idempotency_key, x.triggered_by, x.outcome, x.error, x.provider_id, x.started_at,"
        " x.finished_at FROM transfer_attempts x WHERE x.transfer_id = $1 ORDER BY x.seq", transfer_id)
    return [dict(r) for r in rows]


async def daily_sales(conn: asyncpg.Connection, seller_id: UUID, since: dt.datetime) -> list[dict[str, Any]]:
    """Per UTC day since `since`: the seller's paid orders and their gross (amount + fee)."""
    rows = await conn.fetch(
        "SELECT (t.created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS orders,"
        " sum(t.amount_cents + t.platform_fee_cents)::bigint AS gross_cents, sum(t.amount_cents)::bigint AS net_cents"
        " FROM transfers t WHERE t.seller_id = $1 AND t.created_at >= $2"
        " AND t.status NOT IN ('canceled', 'reversal_pending', 'reversed') GROUP BY 1 ORDER BY 1", seller_id, since)
    return [dict(r) for r in rows]
