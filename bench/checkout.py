"""A limited drop: thousands of buyers check out one product with a few hundred units at the
same second. The chosen reservation (one conditional UPDATE per product) against a plain
`SELECT ... FOR UPDATE` then UPDATE per checkout, in the same run.

`conditional-update` is the real checkout (`veza.domain.marketplace.place_order`: read
and price, then one statement that reserves with a guarded UPDATE and inserts the order
and its line, open a sandbox payment, store it); `select-for-update` locks the row first and holds it for the
whole transaction, with the same inserts and payment. Real PostgreSQL (a fresh database),
in this process: no HTTP in between, this measures the hot path. Each
round gets a fresh product; rounds alternate modes so the machine's load hits both alike.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.checkout
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from typing import Any

from bench import procs
from veza.db import Database, migrate
from veza.domain import marketplace as rules
from veza.domain.errors import SoldOut
from veza.services.payments.sandbox import SandboxProvider
from veza.store import orders as order_store
from veza.store import products as product_store
from veza.store import users


async def lock_first_checkout(db: Database, provider: SandboxProvider, checkout: rules.Checkout) -> None:
    """The usual alternative: lock the product row first (SELECT ... FOR UPDATE), look, write
    the reservation, then the order: the lock is held for the whole transaction. Payment and
    its record are the real code's."""
    lines = rules.merge_cart(checkout.lines)
    async with db.transaction() as conn:
        for line in lines:
            row = await conn.fetchrow("SELECT stock, reserved, sold FROM products WHERE id = $1 FOR UPDATE",
                                      line.product_id)
            if row["stock"] is not None and row["stock"] - row["reserved"] - row["sold"] < line.quantity:
                raise SoldOut("sold out")
            await conn.execute("UPDATE products SET reserved = reserved + $2 WHERE id = $1",
                               line.product_id, line.quantity)
        products = await product_store.many(conn, [line.product_id for line in lines])
        priced, currency, subtotal = rules.price_cart(lines, products, checkout.buyer.user_id)
        order_id = uuid.uuid4()
        await order_store.insert(
            conn, order_id=order_id, buyer_id=checkout.buyer.user_id, currency=currency, subtotal_cents=subtotal,
            payment_method="card", idempotency_key=None, request_hash=None, anonymous=False, live_stream_id=None,
            ttl=checkout.ttl, lines=priced)
    intent = await provider.create_payment(order_id=str(order_id), amount_cents=subtotal, currency=currency,
                                           description="bench", return_url=checkout.return_url)
    await rules.record_payment(db, provider.name, {"id": order_id, "total_cents": subtotal, "currency": currency},
                               intent)


async def conditional_checkout(db: Database, provider: SandboxProvider, checkout: rules.Checkout) -> None:
    await rules.place_order(db, provider, checkout)


MODES = {"conditional-update": conditional_checkout, "select-for-update": lock_first_checkout}


async def make_buyers(db: Database, count: int) -> list[uuid.UUID]:
    tag = uuid.uuid4().hex[:6]
    async with db.connection() as conn:
        await conn.copy_records_to_table("users", columns=["username", "email"], records=[
            (f"fan_{tag}_{i}", f"fan_{tag}_{i}@example.com") for i in range(count)])
        return [r["id"] for r in await conn.fetch("SELECT id FROM users WHERE username LIKE $1", f"fan_{tag}_%")]


async def run_round(db: Database, provider: SandboxProvider, seller: dict[str, Any], buyers: list[uuid.UUID],
                    stock: int, place: Any) -> dict[str, Any]:
    async with db.connection() as conn:
        product = await product_store.create(conn, seller["id"], {
            "title": "Limited vinyl", "price_cents": 3500, "currency": "EUR", "kind": "merch", "stock": stock})
    latencies: list[float] = []
    held = sold_out = 0

    async def buy(buyer: uuid.UUID) -> None:
        nonlocal held, sold_out
        checkout = rules.Checkout(buyer=rules.Principal(buyer, "user"), lines=[rules.CartLine(product["id"], 1)],
                                  payment_method="card", idempotency_key=None, request_hash=None, anonymous=False,
                                  ttl=900, return_url="http://localhost/static/checkout.html?order={order_id}")
        start = time.monotonic()
        try:
            await place(db, provider, checkout)
            held += 1
        except SoldOut:
            sold_out += 1
        latencies.append(time.monotonic() - start)

    started = time.monotonic()
    await asyncio.gather(*(buy(b) for b in buyers))
    elapsed = time.monotonic() - started
    async with db.connection() as conn:
        row = await conn.fetchrow("SELECT reserved, sold FROM products WHERE id = $1", product["id"])
        orders = await conn.fetchval("SELECT count(*) FROM order_items WHERE product_id = $1", product["id"])
    latencies.sort()
    return {"per_s": len(buyers) / elapsed, "held": held, "sold_out": sold_out, "orders": orders,
            "oversold": max(0, row["reserved"] + row["sold"] - stock),
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


async def main_async(args: argparse.Namespace) -> dict[str, float]:
    print(f"{procs.machine()}; commit {procs.commit()}", flush=True)
    async with procs.fresh_database(args.database_url) as dsn:
        db = await Database.connect(dsn, min_size=2, max_size=args.pool)
        provider = SandboxProvider(db, "bench-secret")
        try:
            async with db.connection() as conn:
                await migrate(conn)
                seller = await users.create_user(conn, username=f"seller_{uuid.uuid4().hex[:6]}",
                                                 email=f"seller_{uuid.uuid4().hex[:6]}@example.com",
                                                 password_hash=None, role="creator")
            buyers = await make_buyers(db, args.buyers)
            totals: dict[str, list[dict[str, Any]]] = {name: [] for name in MODES}
            for round_ in range(args.rounds):
                for name, place in MODES.items():
                    res = await run_round(db, provider, seller, buyers, args.stock, place)
                    totals[name].append(res)
                    print(f"  round {round_ + 1} {name:18} {res['per_s']:7.0f} checkouts/s  p50={res['p50_ms']:7.1f}ms "
                          f"p99={res['p99_ms']:7.1f}ms  held={res['held']} sold_out={res['sold_out']} "
                          f"orders={res['orders']} oversold={res['oversold']}", flush=True)
        finally:
            await provider.close()
            await db.close()
    print(f"\n{args.buyers} buyers at once on one product with stock {args.stock}, pool {args.pool} connections")
    mean = {}
    for name, rounds in totals.items():
        mean[name] = sum(r["per_s"] for r in rounds) / len(rounds)
        p99 = sorted(r["p99_ms"] for r in rounds)[len(rounds) // 2]
        oversold = sum(r["oversold"] for r in rounds)
        wrong = sum(r["held"] != args.stock or r["orders"] != args.stock for r in rounds)
        print(f"  {name:18} {mean[name]:7.0f} checkouts/s (mean of {len(rounds)} rounds), median p99 {p99:.1f} ms, "
              f"oversold {oversold}, rounds with held != stock: {wrong}")
    ratio = mean["conditional-update"] / mean["select-for-update"]
    print(f"  conditional-update / select-for-update: {ratio:.2f}x")
    return mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--stock", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=20, help="database pool size (DB_POOL_MAX's default)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
