"""Products and their reviews. Stock moves only through the conditional statements below,
so `reserved + sold <= stock` (also a CHECK) holds under any concurrency."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound
from veza.store.columns import assignments
from veza.store.search import hits_cte

# What a product answers with: the seller's name, what is left, the rating so far.
_COLUMNS = """p.id, p.seller_id, p.title, p.description, p.price_cents, p.currency, p.kind, p.track_id,
    p.status, p.stock, p.sold, p.created_at, p.updated_at, p.review_count,
    CASE WHEN p.stock IS NULL THEN NULL ELSE p.stock - p.reserved - p.sold END AS stock_remaining,
    CASE WHEN p.review_count = 0 THEN NULL ELSE round(p.rating_sum::numeric / p.review_count, 2)::float8 END
        AS rating_avg,
    p.file_key IS NOT NULL OR p.track_id IS NOT NULL AS downloadable,
    u.username AS seller_username"""
_FROM = "products p JOIN users u ON u.id = p.seller_id"
FIELDS = ("title", "description", "price_cents", "currency", "kind", "track_id", "stock", "status")
SORTS = {
    "newest": "p.created_at DESC, p.id DESC",
    "price_asc": "p.price_cents ASC, p.id DESC",
    "price_desc": "p.price_cents DESC, p.id DESC",
    "popular": "p.sold DESC, p.created_at DESC, p.id DESC",
    "rating": "(p.rating_sum::float8 / greatest(p.review_count, 1)) DESC, p.review_count DESC, p.id DESC",
}


def _product(row: asyncpg.Record) -> dict[str, Any]:
    product = dict(row)
    product["seller"] = {"id": product["seller_id"], "username": product.pop("seller_username")}
    return product


async def create(conn: asyncpg.Connection, seller_id: UUID, fields: dict[str, Any]) -> dict[str, Any]:
    names = [f for f in FIELDS if f in fields]
    placeholders = ", ".join(f"${i + 2}" for i in range(len(names)))
    product_id = await conn.fetchval(
        f"INSERT INTO products (seller_id, {', '.join(names)}) VALUES ($1, {placeholders}) RETURNING id",
        seller_id, *[fields[f] for f in names])
    return await get(conn, product_id)


async def get(conn: asyncpg.Connection, product_id: UUID, *, for_update: bool = False) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM {_FROM} WHERE p.id = $1"
                              + (" FOR UPDATE OF p" if for_update else ""), product_id)
    if row is None:
        raise NotFound("Product not found")
    return _product(row)


async def many(conn: asyncpg.Connection, product_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM {_FROM} WHERE p.id = ANY($1::uuid[])", product_ids)
    return {row["id"]: _product(row) for row in rows}


async def search_ids(conn: asyncpg.Connection, text: str, cap: int) -> list[UUID]:
    """Active products matching `text`: whole words and word prefixes (the machinery of track
    search: websearch syntax plus prefix terms), then trigram-similar titles for typos."""
    hits = hits_cte("products", similarity="similarity(t.title, $1)", trigram_match="t.title % $1",
                           where="t.status = 'active'")
    rows = await conn.fetch(f"{hits} SELECT id FROM hits ORDER BY tier, score DESC LIMIT $2", text, cap)
    return [r["id"] for r in rows]


async def list_active(conn: asyncpg.Connection, *, sort: str, seller_id: UUID | None, limit: int, offset: int,
                      only: list[UUID] | None = None) -> tuple[list[dict[str, Any]], int]:
    """A page of active products; `only` restricts to search hits, kept in their rank order."""
    where = "p.status = 'active' AND ($1::uuid IS NULL OR p.seller_id = $1) AND ($2::uuid[] IS NULL OR p.id = ANY($2))"
    order = "array_position($2::uuid[], p.id)" if only is not None else SORTS[sort]
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY {order} LIMIT $3 OFFSET $4",
                            seller_id, only, limit, offset)
    total = await conn.fetchval(f"SELECT count(*) FROM products p WHERE {where}", seller_id, only)
    return [_product(r) for r in rows], total


async def update(conn: asyncpg.Connection, product_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    sets, values = assignments(changes, FIELDS, 2)
    if sets:
        await conn.execute(f"UPDATE products SET {sets}, updated_at = now() WHERE id = $1", product_id, *values)
    return await get(conn, product_id)


async def units_held(conn: asyncpg.Connection, product_id: UUID) -> int:
    """Units sold or reserved: the least the stock may be set to."""
    return await conn.fetchval("SELECT reserved + sold FROM products WHERE id = $1", product_id)


async def ever_ordered(conn: asyncpg.Connection, product_id: UUID) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM order_items WHERE product_id = $1)", product_id)


async def delete(conn: asyncpg.Connection, product_id: UUID) -> None:
    await conn.execute("DELETE FROM products WHERE id = $1", product_id)


async def archive(conn: asyncpg.Connection, product_id: UUID) -> None:
    await conn.execute("UPDATE products SET status = 'archived', updated_at = now() WHERE id = $1", product_id)


# Stock. Each is one statement on one row: the row lock serialises concurrent buyers of the
# same product, and PostgreSQL re-checks the WHERE clause against the row it finally locks.

async def reserve(conn: asyncpg.Connection, product_id: UUID, quantity: int) -> bool:
    """Hold `quantity` units for a pending order; False when not that many are left."""
    return await conn.fetchval(
        "UPDATE products SET reserved = reserved + $2 WHERE id = $1 AND status = 'active'"
        " AND (stock IS NULL OR stock - reserved - sold >= $2) RETURNING true", product_id, quantity) or False


async def release(conn: asyncpg.Connection, lines: list[tuple[UUID, int]]) -> None:
    """Give back what a failed, cancelled or expired order held."""
    await conn.executemany("UPDATE products SET reserved = reserved - $2 WHERE id = $1", lines)


async def commit_sold(conn: asyncpg.Connection, lines: list[tuple[UUID, int]]) -> None:
    await conn.executemany("UPDATE products SET reserved = reserved - $2, sold = sold + $2 WHERE id = $1", lines)


async def return_sold(conn: asyncpg.Connection, lines: list[tuple[UUID, int]]) -> None:
    """A refunded order's units go back on sale."""
    await conn.executemany("UPDATE products SET sold = sold - $2 WHERE id = $1", lines)


# Reviews.

_REVIEW = "id, product_id, buyer_id, order_id, rating, comment, created_at"


async def list_reviews(conn: asyncpg.Connection, product_id: UUID, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_REVIEW} FROM reviews WHERE product_id = $1"
                            " ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3", product_id, limit, offset)
    return [dict(r) for r in rows]


async def create_review(conn: asyncpg.Connection, *, product_id: UUID, buyer_id: UUID, order_id: UUID, rating: int,
                        comment: str) -> dict[str, Any] | None:
    """The review, or None when this buyer already reviewed this product."""
    row = await conn.fetchrow(
        f"INSERT INTO reviews (product_id, buyer_id, order_id, rating, comment) VALUES ($1, $2, $3, $4, $5)"
        f" ON CONFLICT (product_id, buyer_id) WHERE buyer_id IS NOT NULL DO NOTHING RETURNING {_REVIEW}",
        product_id, buyer_id, order_id, rating, comment)
    if row is None:
        return None
    await conn.execute("UPDATE products SET rating_sum = rating_sum + $2, review_count = review_count + 1"
                       " WHERE id = $1", product_id, rating)
    return dict(row)


# Live shopping: products pinned to a live stream.

_PINNED = """p.id, p.title, p.kind, p.price_cents, p.currency,
    CASE WHEN p.stock IS NULL THEN NULL ELSE p.stock - p.reserved - p.sold END AS stock_remaining"""


async def pinned(conn: asyncpg.Connection, stream_id: UUID) -> list[dict[str, Any]]:
    """The stream's pinned products still on sale, in the streamer's order."""
    rows = await conn.fetch(f"SELECT {_PINNED} FROM live_stream_products l JOIN products p ON p.id = l.product_id"
                            " WHERE l.stream_id = $1 AND p.status = 'active' ORDER BY l.position", stream_id)
    return [dict(r) for r in rows]


async def set_pinned(conn: asyncpg.Connection, stream_id: UUID, product_ids: list[UUID]) -> None:
    await conn.execute("DELETE FROM live_stream_products WHERE stream_id = $1", stream_id)
    await conn.executemany("INSERT INTO live_stream_products (stream_id, product_id, position) VALUES ($1, $2, $3)",
                           [(stream_id, pid, i) for i, pid in enumerate(product_ids)])


async def live_sales(conn: asyncpg.Connection, product_ids: list[UUID]) -> list[dict[str, Any]]:
    """For each live stream showing one of these products: (stream, product, sold, remaining)."""
    rows = await conn.fetch(
        "SELECT l.stream_id, p.id AS product_id, p.sold,"
        " CASE WHEN p.stock IS NULL THEN NULL ELSE p.stock - p.reserved - p.sold END AS remaining"
        " FROM live_stream_products l JOIN live_streams s ON s.id = l.stream_id JOIN products p ON p.id = l.product_id"
        " WHERE l.product_id = ANY($1::uuid[]) AND s.status = 'live'", product_ids)
    return [dict(r) for r in rows]
