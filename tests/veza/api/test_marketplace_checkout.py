"""Checkout through the sandbox: prices from the server, idempotency, stock that never
oversells, and the whole flow from order to paid."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support import ApiClient
from tests.veza.api.market_helpers import bought, checkout, order_status, sandbox_pay, seller_with_product


async def _product_row(client: ApiClient, product_id: str) -> dict:
    from veza import keys

    async with client.app[keys.db].connection() as conn:
        return dict(await conn.fetchrow("SELECT stock, reserved, sold FROM products WHERE id = $1",
                                        uuid.UUID(product_id)))


async def test_the_server_prices_the_order(client: ApiClient) -> None:
    seller, product = await seller_with_product(client, price_cents=1250, currency="USD")
    buyer = await client.register()
    reply = await client.post("/marketplace/orders", user=buyer, json={
        "items": [{"product_id": product["id"], "quantity": 3, "unit_price_cents": 1, "price_cents": 1}],
        "payment_method": "card"})
    assert reply.status == 201, reply.body
    order = reply.data
    assert order["status"] == "pending" and order["currency"] == "USD"
    assert order["subtotal_cents"] == order["total_cents"] == 3750
    assert order["items"] == [{"id": order["items"][0]["id"], "product_id": product["id"], "seller_id": seller.id,
                               "title": product["title"], "unit_price_cents": 1250, "quantity": 3}]
    assert order["payment"]["provider"] == "sandbox" and order["payment"]["status"] == "requires_payment_method"
    assert order["payment"]["payment_id"] and order["payment"]["client_secret"]
    assert order["checkout_url"] == f"/static/checkout.html?order={order['id']}"
    assert order["expires_at"] > order["created_at"]


async def test_paying_in_the_sandbox_pays_the_order_once(client: ApiClient) -> None:
    seller, buyer, product, order = await bought(client, stock=2)
    assert await _product_row(client, product["id"]) == {"stock": 2, "reserved": 0, "sold": 1}
    again = await sandbox_pay(client, order)
    assert again.status == 409  # the sandbox payment is already decided
    sale = await client.get("/notifications", user=seller)
    kinds = [n["kind"] for n in sale.data["notifications"]]
    assert "sale" in kinds
    listed = await client.get("/marketplace/orders", user=buyer)
    assert listed.data["total"] == 1 and listed.data["orders"][0]["status"] == "paid"
    purchases = await client.get("/marketplace/purchases", user=buyer)
    assert [p["product_id"] for p in purchases.data["purchases"]] == [product["id"]]


async def test_a_declined_payment_releases_the_stock(client: ApiClient) -> None:
    _, product = await seller_with_product(client, stock=1)
    buyer = await client.register()
    order = (await checkout(client, buyer, product["id"])).data
    assert await _product_row(client, product["id"]) == {"stock": 1, "reserved": 1, "sold": 0}
    other = await client.register()
    sold_out = await checkout(client, other, product["id"])
    assert sold_out.status == 409 and sold_out.body["code"] == "sold_out"
    assert (await sandbox_pay(client, order, "decline")).status == 200
    assert await order_status(client, buyer, order["id"]) == "failed"
    assert await _product_row(client, product["id"]) == {"stock": 1, "reserved": 0, "sold": 0}
    assert (await checkout(client, other, product["id"])).status == 201


async def test_idempotency_key_answers_the_same_order_and_refuses_another_body(client: ApiClient) -> None:
    _, product = await seller_with_product(client, stock=10)
    buyer = await client.register()
    key = {"Idempotency-Key": f"cart-{uuid.uuid4()}"}
    first = await checkout(client, buyer, product["id"], 2, headers=key)
    second = await checkout(client, buyer, product["id"], 2, headers=key)
    assert first.status == second.status == 201 and first.data["id"] == second.data["id"]
    assert (await _product_row(client, product["id"]))["reserved"] == 2  # reserved once
    other_body = await checkout(client, buyer, product["id"], 3, headers=key)
    assert other_body.status == 409 and other_body.body["code"] == "conflict"
    # Keys are per buyer: another buyer's same key is their own order.
    stranger = await client.register()
    theirs = await checkout(client, stranger, product["id"], 2, headers=key)
    assert theirs.status == 201 and theirs.data["id"] != first.data["id"]
    assert (await checkout(client, buyer, product["id"], headers={"Idempotency-Key": "a b"})).status == 400


async def test_concurrent_requests_with_one_key_make_one_order(client: ApiClient) -> None:
    _, product = await seller_with_product(client, stock=50)
    buyer = await client.register()
    key = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    replies = await asyncio.gather(*(checkout(client, buyer, product["id"], headers=key) for _ in range(10)))
    assert {r.status for r in replies} == {201}
    assert len({r.data["id"] for r in replies}) == 1
    assert (await _product_row(client, product["id"]))["reserved"] == 1


@pytest.mark.parametrize("body", [
    {}, {"items": []}, {"items": "x"}, {"items": [{}]}, {"items": [{"product_id": "nope"}]},
    {"items": [{"product_id": str(uuid.uuid4()), "quantity": 0}]},
    {"items": [{"product_id": str(uuid.uuid4()), "quantity": 101}]},
    {"items": [{"product_id": str(uuid.uuid4()), "quantity": 1.5}]},
    {"items": [{"product_id": str(uuid.uuid4())}] * 51},
    {"items": [{"product_id": str(uuid.uuid4())}], "payment_method": "bitcoin"},
    {"items": [{"product_id": str(uuid.uuid4())}], "coupon": "FREE"},
])
async def test_malformed_carts_are_400s(client: ApiClient, body: dict) -> None:
    buyer = await client.register()
    reply = await client.post("/marketplace/orders", user=buyer, json=body)
    assert reply.status == 400, (body, reply.body)
    assert reply.body["details"]


async def test_cart_rules(client: ApiClient) -> None:
    seller, eur = await seller_with_product(client)
    _, usd = await seller_with_product(client, currency="USD")
    _, draft = await seller_with_product(client, status="draft")
    buyer = await client.register()
    mixed = await client.post("/marketplace/orders", user=buyer, json={
        "items": [{"product_id": eur["id"]}, {"product_id": usd["id"]}]})
    assert mixed.status == 400 and "items" in mixed.body["details"]
    assert (await checkout(client, buyer, str(uuid.uuid4()))).status == 404
    assert (await checkout(client, buyer, draft["id"])).status == 404
    own = await checkout(client, seller, eur["id"])
    assert own.status == 409
    # A product listed twice adds up (and is capped at 100 together).
    twice = await client.post("/marketplace/orders", user=buyer, json={
        "items": [{"product_id": eur["id"], "quantity": 60}, {"product_id": eur["id"], "quantity": 60}]})
    assert twice.status == 400
    assert (await client.post("/marketplace/orders", json={"items": [{"product_id": eur["id"]}]})).status == 401


async def test_orders_are_seen_by_their_buyer_sellers_and_admins(client: ApiClient) -> None:
    seller, buyer, product, order = await bought(client)
    path = f"/marketplace/orders/{order['id']}"
    as_seller = await client.get(path, user=seller)
    assert as_seller.status == 200 and as_seller.data["payment"]["client_secret"] is None
    admin = await client.register(role="admin")
    assert (await client.get(path, user=admin)).status == 200
    stranger = await client.register()
    assert (await client.get(path, user=stranger)).status == 404
    assert (await client.get(path)).status == 401
    assert (await client.get(f"/marketplace/orders/{uuid.uuid4()}", user=buyer)).status == 404
    assert (await client.get("/marketplace/orders", user=stranger)).data == {"orders": [], "total": 0}


async def test_500_concurrent_checkouts_never_oversell(client: ApiClient) -> None:
    _, product = await seller_with_product(client, stock=20)
    buyers = [await client.register() for _ in range(5)]
    replies = await asyncio.gather(*(checkout(client, buyers[i % 5], product["id"]) for i in range(500)))
    held = [r for r in replies if r.status == 201]
    refused = [r for r in replies if r.status != 201]
    assert len(held) == 20
    assert {r.status for r in refused} == {409} and {r.body["code"] for r in refused} == {"sold_out"}
    assert await _product_row(client, product["id"]) == {"stock": 20, "reserved": 20, "sold": 0}
    # Five payments fail: exactly those five units are for sale again, and sell again.
    for reply in held[:5]:
        assert (await sandbox_pay(client, reply.data, "decline")).status == 200
    for reply in held[5:]:
        assert (await sandbox_pay(client, reply.data)).status == 200
    assert await _product_row(client, product["id"]) == {"stock": 20, "reserved": 0, "sold": 15}
    again = await asyncio.gather(*(checkout(client, buyers[i % 5], product["id"]) for i in range(50)))
    assert sum(r.status == 201 for r in again) == 5
    assert await _product_row(client, product["id"]) == {"stock": 20, "reserved": 5, "sold": 15}


async def test_unpaid_orders_expire_and_give_their_stock_back(client: ApiClient) -> None:
    from veza import keys
    from veza.domain.marketplace import expire_due_orders

    _, product = await seller_with_product(client, stock=1)
    buyer = await client.register()
    order = (await checkout(client, buyer, product["id"])).data
    db = client.app[keys.db]
    announce = client.app[keys.marketplace].announce
    provider = client.app[keys.marketplace].provider
    assert await expire_due_orders(db, announce, provider) == 0  # not due yet
    async with db.connection() as conn:
        await conn.execute("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1",
                           uuid.UUID(order["id"]))
    assert await expire_due_orders(db, announce, provider) == 1
    assert await expire_due_orders(db, announce, provider) == 0  # once
    assert await order_status(client, buyer, order["id"]) == "expired"
    assert await _product_row(client, product["id"]) == {"stock": 1, "reserved": 0, "sold": 0}
    # The payment was voided at the provider: the checkout page can no longer pay it.
    late = await sandbox_pay(client, order)
    assert late.status == 409
    assert (await client.get(f"/marketplace/orders/{order['id']}", user=buyer)).data["payment"]["status"] == "cancelled"
