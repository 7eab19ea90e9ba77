"""The marketplace: products the user sells, orders they placed (with their lines and the
payment's status, never its client secret), what they sold (lines of other people's orders,
without the buyer), what they own, their reviews and the refunds they asked for."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream

_ITEMS = """coalesce((SELECT jsonb_agg(jsonb_build_object('product_id', i.product_id, 'seller_id', i.seller_id,
    'title', i.title, 'unit_price_cents', i.unit_price_cents, 'quantity', i.quantity) ORDER BY i.title, i.id)
    FROM order_items i WHERE i.order_id = o.id), '[]'::jsonb)"""


@exporter("marketplace", covers=("products.seller_id", "orders.buyer_id", "order_items.seller_id",
                                 "purchases.buyer_id", "reviews.buyer_id", "refunds.requested_by"))
async def marketplace(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("products.jsonl", stream(
        conn, "SELECT id, title, description, price_cents, currency, kind, track_id, status, stock, sold,"
              " review_count, rating_sum, created_at, updated_at FROM products WHERE seller_id = $1"
              " ORDER BY created_at, id", user_id))
    await archive.rows("orders.jsonl", stream(
        conn, f"SELECT o.id, o.status, o.currency, o.subtotal_cents, o.total_cents, o.payment_method, o.anonymous,"
              f" o.live_stream_id, o.created_at, o.paid_at, o.refunded_at, p.provider AS payment_provider,"
              f" p.status AS payment_status, inv.number AS invoice_number, {_ITEMS} AS items"
              f" FROM orders o LEFT JOIN payments p ON p.order_id = o.id LEFT JOIN invoices inv ON inv.order_id = o.id"
              f" WHERE o.buyer_id = $1 ORDER BY o.created_at, o.id", user_id))
    await archive.rows("sales.jsonl", stream(
        conn, "SELECT i.order_id, i.product_id, i.title, i.unit_price_cents, i.quantity, o.currency, o.status,"
              " o.created_at, o.paid_at FROM order_items i JOIN orders o ON o.id = i.order_id"
              " WHERE i.seller_id = $1 ORDER BY o.created_at, i.id", user_id))
    await archive.rows("purchases.jsonl", stream(
        conn, "SELECT pu.id, pu.order_id, pu.product_id, pr.title, pr.kind, pu.created_at, pu.revoked_at"
              " FROM purchases pu JOIN products pr ON pr.id = pu.product_id WHERE pu.buyer_id = $1"
              " ORDER BY pu.created_at, pu.id", user_id))
    await archive.rows("reviews.jsonl", stream(
        conn, "SELECT id, product_id, order_id, rating, comment, created_at FROM reviews WHERE buyer_id = $1"
              " ORDER BY created_at, id", user_id))
    await archive.rows("refunds.jsonl", stream(
        conn, "SELECT id, order_id, reason, details, amount_cents, currency, status, created_at, updated_at"
              " FROM refunds WHERE requested_by = $1 ORDER BY created_at, id", user_id))
