"""Orders, their lines and payment, what buyers own, refunds, invoice numbers, the provider
events already applied, and the payout rows a paid order creates.

Status changes are `UPDATE ... WHERE status = ANY(<from>)`: a transition a replay, a second
node or a racing client already made finds no row, so it is applied once."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound

_ORDER = ("o.id, o.buyer_id, o.status, o.currency, o.subtotal_cents, o.total_cents, o.payment_method, o.anonymous,"
          " o.flagged_reason, o.live_stream_id, o.created_at, o.updated_at, o.expires_at, o.paid_at, o.refunded_at")
_ITEM = "order_id, id, product_id, seller_id, title, unit_price_cents, quantity"
_PAYMENT = "order_id, provider, payment_id, client_secret, status, amount_cents, currency"


# What a new order's row adds to what the checkout already knows.
_PLACED = "id, anonymous, created_at, updated_at, expires_at"
_ANONYMOUS = "$8 OR coalesce((SELECT do_not_sell FROM users WHERE id = $2), false)"


def _order_args(order_id: UUID, buyer_id: UUID, currency: str, subtotal_cents: int, payment_method: str,
                idempotency_key: str | None, request_hash: str | None, anonymous: bool, live_stream_id: UUID | None,
                ttl: int) -> tuple[Any, ...]:
    return (order_id, buyer_id, currency, subtotal_cents, payment_method, idempotency_key, request_hash, anonymous,
            live_stream_id, float(ttl))


_INSERT_ORDER = (
    "INSERT INTO orders (id, buyer_id, currency, subtotal_cents, total_cents, payment_method, idempotency_key,"
    f" request_hash, anonymous, live_stream_id, expires_at) SELECT $1, $2, $3, $4, $4, $5, $6, $7, {_ANONYMOUS},"
    " $9, now() + make_interval(secs => $10)")


async def insert(conn: asyncpg.Connection, *, order_id: UUID, buyer_id: UUID, currency: str, subtotal_cents: int,
                 payment_method: str, idempotency_key: str | None, request_hash: str | None, anonymous: bool,
                 live_stream_id: UUID | None, ttl: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The order and its lines (the caller reserves their stock in the same transaction);
    the order row's own fields and each line's id by product."""
    row = await conn.fetchrow(f"{_INSERT_ORDER} RETURNING {_PLACED}", *_order_args(
        order_id, buyer_id, currency, subtotal_cents, payment_method, idempotency_key, request_hash, anonymous,
        live_stream_id, ttl))
    items = await conn.fetch(
        "INSERT INTO order_items (order_id, product_id, seller_id, title, unit_price_cents, quantity)"
        " SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::bigint[], $6::int[]) RETURNING id, product_id",
        order_id, [x["product_id"] for x in lines], [x["seller_id"] for x in lines], [x["title"] for x in lines],
        [x["unit_price_cents"] for x in lines], [x["quantity"] for x in lines])
    return {**dict(row), "item_ids": {r["product_id"]: r["id"] for r in items}}


async def place_one_line(conn: asyncpg.Connection, *, order_id: UUID, buyer_id: UUID, currency: str,
                         subtotal_cents: int, payment_method: str, idempotency_key: str | None,
                         request_hash: str | None, anonymous: bool, live_stream_id: UUID | None, ttl: int,
                         line: dict[str, Any]) -> dict[str, Any] | None:
    """A one-line order in ONE statement: reserve the units, insert the order and its line;
    None (nothing written) when not that many units are left. Run outside a transaction,
    the product's row lock lasts this statement and its commit: the hot path of a drop."""
    row = await conn.fetchrow(
        "WITH held AS (UPDATE products SET reserved = reserved + $15 WHERE id = $11 AND status = 'active'"
        "   AND (stock IS NULL OR stock - reserved - sold >= $15) RETURNING id),"
        f" placed AS ({_INSERT_ORDER} FROM held RETURNING {_PLACED}),"
        " item AS (INSERT INTO order_items (order_id, product_id, seller_id, title, unit_price_cents, quantity)"
        "   SELECT id, $11, $12, $13, $14, $15 FROM placed RETURNING id)"
        " SELECT placed.*, item.id AS item_id FROM placed, item",
        *_order_args(order_id, buyer_id, currency, subtotal_cents, payment_method, idempotency_key, request_hash,
                     anonymous, live_stream_id, ttl),
        line["product_id"], line["seller_id"], line["title"], line["unit_price_cents"], line["quantity"])
    if row is None:
        return None
    placed = dict(row)
    return {**placed, "item_ids": {line["product_id"]: placed.pop("item_id")}}


async def by_idempotency_key(conn: asyncpg.Connection, buyer_id: UUID, key: str) -> tuple[UUID, str | None] | None:
    row = await conn.fetchrow("SELECT id, request_hash FROM orders WHERE buyer_id = $1 AND idempotency_key = $2",
                              buyer_id, key)
    return (row["id"], row["request_hash"]) if row else None


async def delete_unpaid(conn: asyncpg.Connection, order_id: UUID) -> None:
    """Forget an order whose payment could not even be created (the provider was down)."""
    await conn.execute("DELETE FROM orders WHERE id = $1 AND status = 'pending'", order_id)


async def insert_payment(conn: asyncpg.Connection, *, order_id: UUID, provider: str, payment_id: str,
                         client_secret: str | None, status: str, amount_cents: int, currency: str) -> None:
    await conn.execute(
        "INSERT INTO payments (order_id, provider, payment_id, client_secret, status, amount_cents, currency)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        order_id, provider, payment_id, client_secret, status, amount_cents, currency)


async def _assemble(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    orders = [dict(r) for r in rows]
    ids = [o["id"] for o in orders]
    items: dict[UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    for item in await conn.fetch(f"SELECT {_ITEM} FROM order_items WHERE order_id = ANY($1::uuid[])"
                                 " ORDER BY title, id", ids):
        items[item["order_id"]].append({k: item[k] for k in ("id", "product_id", "seller_id", "title",
                                                             "unit_price_cents", "quantity")})
    payments = {p["order_id"]: {k: p[k] for k in ("provider", "payment_id", "client_secret", "status")}
                for p in await conn.fetch(f"SELECT {_PAYMENT} FROM payments WHERE order_id = ANY($1::uuid[])", ids)}
    for order in orders:
        order["items"] = items[order["id"]]
        order["payment"] = payments.get(order["id"])
    return orders


async def get(conn: asyncpg.Connection, order_id: UUID, *, for_update: bool = False) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {_ORDER} FROM orders o WHERE o.id = $1" + (" FOR UPDATE" if for_update else ""),
                              order_id)
    if row is None:
        raise NotFound("Order not found")
    return (await _assemble(conn, [row]))[0]


async def list_for_buyer(conn: asyncpg.Connection, buyer_id: UUID, *, status: str | None, limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
    where = "o.buyer_id = $1 AND ($2::text IS NULL OR o.status = $2)"
    rows = await conn.fetch(f"SELECT {_ORDER} FROM orders o WHERE {where} ORDER BY o.created_at DESC, o.id DESC"
                            " LIMIT $3 OFFSET $4", buyer_id, status, limit, offset)
    total = await conn.fetchval(f"SELECT count(*) FROM orders o WHERE {where}", buyer_id, status)
    return await _assemble(conn, rows), total


async def order_of_payment(conn: asyncpg.Connection, provider: str, payment_id: str) -> UUID | None:
    return await conn.fetchval("SELECT order_id FROM payments WHERE provider = $1 AND payment_id = $2",
                               provider, payment_id)


async def set_payment_status(conn: asyncpg.Connection, order_id: UUID, status: str) -> None:
    await conn.execute("UPDATE payments SET status = $2, updated_at = now() WHERE order_id = $1", order_id, status)


async def move(conn: asyncpg.Connection, order_id: UUID, source: tuple[str, ...], target: str) -> bool:
    """Move the order from one of `source` to `target`; False when it was not in `source`."""
    stamp = {"paid": ", paid_at = now()", "refunded": ", refunded_at = now()"}.get(target, "")
    return await conn.fetchval(
        f"UPDATE orders SET status = $3, updated_at = now(){stamp} WHERE id = $1 AND status = ANY($2::text[])"
        " RETURNING true", order_id, list(source), target) or False


async def flag(conn: asyncpg.Connection, order_id: UUID, reason: str) -> None:
    await conn.execute("UPDATE orders SET flagged_reason = $2, updated_at = now() WHERE id = $1", order_id, reason)


async def due_for_expiry(conn: asyncpg.Connection, limit: int) -> list[UUID]:
    """Pending orders past their payment window, locked so that two nodes take different ones."""
    rows = await conn.fetch("SELECT id FROM orders WHERE status = 'pending' AND expires_at <= now()"
                            " ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED", limit)
    return [r["id"] for r in rows]


# Provider events: stored first, so that an event_id takes effect at most once.

async def record_event(conn: asyncpg.Connection, provider: str, event_id: str, event_type: str,
                       payload: str) -> bool:
    """False when this event was already received (a replay). `payload` is the body's JSON
    text, parsed by PostgreSQL (as `$4::jsonb` the pool's codec would store it as a string)."""
    return await conn.fetchval(
        "INSERT INTO webhook_events (provider, event_id, event_type, payload) VALUES ($1, $2, $3, $4::text::jsonb)"
        " ON CONFLICT DO NOTHING RETURNING true", provider, event_id, event_type, payload) or False


async def set_event_outcome(conn: asyncpg.Connection, provider: str, event_id: str, outcome: str) -> None:
    await conn.execute("UPDATE webhook_events SET outcome = $3 WHERE provider = $1 AND event_id = $2",
                       provider, event_id, outcome)


# Purchases.

_PURCHASE = """pu.id, pu.order_id, pu.product_id, pu.created_at, pu.revoked_at, p.title, p.kind, p.track_id,
    p.file_key, p.seller_id"""


async def grant_purchases(conn: asyncpg.Connection, order_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO purchases (buyer_id, order_id, order_item_id, product_id)"
        " SELECT o.buyer_id, o.id, i.id, i.product_id FROM order_items i JOIN orders o ON o.id = i.order_id"
        " WHERE o.id = $1 ON CONFLICT (order_item_id) DO NOTHING", order_id)


async def revoke_purchases(conn: asyncpg.Connection, order_id: UUID) -> None:
    await conn.execute("UPDATE purchases SET revoked_at = now() WHERE order_id = $1 AND revoked_at IS NULL", order_id)


async def list_purchases(conn: asyncpg.Connection, buyer_id: UUID, limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(f"SELECT {_PURCHASE} FROM purchases pu JOIN products p ON p.id = pu.product_id"
                            " WHERE pu.buyer_id = $1 AND pu.revoked_at IS NULL"
                            " ORDER BY pu.created_at DESC, pu.id DESC LIMIT $2 OFFSET $3", buyer_id, limit, offset)
    total = await conn.fetchval("SELECT count(*) FROM purchases WHERE buyer_id = $1 AND revoked_at IS NULL", buyer_id)
    return [dict(r) for r in rows], total


async def get_purchase(conn: asyncpg.Connection, purchase_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_PURCHASE}, pu.buyer_id FROM purchases pu"
                              " JOIN products p ON p.id = pu.product_id WHERE pu.id = $1", purchase_id)
    return dict(row) if row else None


async def reviewable_order(conn: asyncpg.Connection, buyer_id: UUID, product_id: UUID) -> UUID | None:
    """The buyer's latest paid, unrefunded order holding this product."""
    return await conn.fetchval(
        "SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id"
        " WHERE o.buyer_id = $1 AND i.product_id = $2 AND o.status = 'paid'"
        " ORDER BY o.paid_at DESC LIMIT 1", buyer_id, product_id)


# Refunds.

async def insert_refund(conn: asyncpg.Connection, *, order_id: UUID, requested_by: UUID, reason: str, details: str,
                        amount_cents: int, currency: str) -> UUID | None:
    """The new refund's id, or None when the order already has a pending or succeeded one."""
    return await conn.fetchval(
        "INSERT INTO refunds (order_id, requested_by, reason, details, amount_cents, currency)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (order_id) WHERE status IN ('pending', 'succeeded') DO NOTHING RETURNING id",
        order_id, requested_by, reason, details, amount_cents, currency)


async def set_refund(conn: asyncpg.Connection, refund_id: UUID, *, source: str, target: str,
                     provider_refund_id: str | None = None) -> bool:
    return await conn.fetchval(
        "UPDATE refunds SET status = $3, provider_refund_id = coalesce($4, provider_refund_id), updated_at = now()"
        " WHERE id = $1 AND status = $2 RETURNING true", refund_id, source, target, provider_refund_id) or False


async def get_refund(conn: asyncpg.Connection, refund_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT id, order_id, status, amount_cents, currency FROM refunds WHERE id = $1",
                              refund_id)
    return dict(row) if row else None


async def pending_refund_of(conn: asyncpg.Connection, order_id: UUID) -> UUID | None:
    return await conn.fetchval("SELECT id FROM refunds WHERE order_id = $1 AND status = 'pending'", order_id)


# Invoices: numbers are sequential per year, fixed when first issued.

async def invoice_number(conn: asyncpg.Connection, order_id: UUID, year: int) -> tuple[str, dt.datetime]:
    row = await conn.fetchrow("SELECT number, issued_at FROM invoices WHERE order_id = $1", order_id)
    if row is None:
        # The counter row's lock serialises issuers of the same year; a concurrent first
        # issue of the same order loses on the primary key and reads the winner's number.
        number = await conn.fetchval(
            "INSERT INTO invoice_counters (year, last_number) VALUES ($1, 1) ON CONFLICT (year)"
            " DO UPDATE SET last_number = invoice_counters.last_number + 1 RETURNING last_number", year)
        await conn.execute("INSERT INTO invoices (order_id, number) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           order_id, f"INV-{year}-{number:06d}")
        row = await conn.fetchrow("SELECT number, issued_at FROM invoices WHERE order_id = $1", order_id)
    return row["number"], row["issued_at"]


async def seller_names(conn: asyncpg.Connection, seller_ids: list[UUID]) -> dict[UUID, str]:
    rows = await conn.fetch("SELECT id, username FROM users WHERE id = ANY($1::uuid[])", seller_ids)
    return {r["id"]: r["username"] for r in rows}


# Payout rows (the payouts issue's worker pays them).

async def create_transfers(conn: asyncpg.Connection, order_id: UUID, rows: list[tuple[UUID, int, int, str]]) -> None:
    """(seller_id, amount_cents, platform_fee_cents, currency) per seller; created once."""
    await conn.executemany(
        "INSERT INTO transfers (order_id, seller_id, amount_cents, platform_fee_cents, currency)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id, seller_id) DO NOTHING",
        [(order_id, *row) for row in rows])


async def undo_transfers(conn: asyncpg.Connection, order_id: UUID) -> None:
    """A refunded order: unpaid transfers are cancelled, paid ones wait for their reversal."""
    await conn.execute("UPDATE transfers SET status = 'canceled', next_retry_at = NULL, updated_at = now()"
                       " WHERE order_id = $1 AND status IN ('pending', 'failed')", order_id)
    await conn.execute("UPDATE transfers SET status = 'reversal_pending', next_retry_at = now(), updated_at = now()"
                       " WHERE order_id = $1 AND status = 'completed'", order_id)
