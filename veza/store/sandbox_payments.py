"""The sandbox payment provider's payments (development only): each status change is one
conditional UPDATE, so concurrent confirms on two nodes change a payment once."""

from __future__ import annotations

from typing import Any

import asyncpg

_PAYMENT = "payment_id, client_secret, order_id, amount_cents, currency, status, webhook_url"


async def create(conn: asyncpg.Connection, *, payment_id: str, client_secret: str, order_id: str,
                 amount_cents: int, currency: str) -> None:
    await conn.execute("INSERT INTO sandbox_payments (payment_id, client_secret, order_id, amount_cents, currency)"
                       " VALUES ($1, $2, $3, $4, $5)", payment_id, client_secret, order_id, amount_cents, currency)


async def get(conn: asyncpg.Connection, payment_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_PAYMENT} FROM sandbox_payments WHERE payment_id = $1", payment_id)
    return dict(row) if row else None


async def move(conn: asyncpg.Connection, payment_id: str, *, source: str, status: str,
               webhook_url: str | None = None) -> dict[str, Any] | None:
    """`source` -> `status`; the payment as it is now, or None when it was not in `source`."""
    row = await conn.fetchrow(
        f"UPDATE sandbox_payments SET status = $3, webhook_url = coalesce($4, webhook_url)"
        f" WHERE payment_id = $1 AND status = $2 RETURNING {_PAYMENT}", payment_id, source, status, webhook_url)
    return dict(row) if row else None
