"""Marketplace test helpers: a seller with a product, a checkout, a sandbox payment."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support import ApiClient, Reply, User


async def seller_with_product(client: ApiClient, **fields: Any) -> tuple[User, dict[str, Any]]:
    seller = await client.register(role="creator")
    body = {"title": "Night Drive (stems)", "price_cents": 2999, "kind": "sample_pack", **fields}
    reply = await client.post("/marketplace/products", user=seller, json=body)
    assert reply.status == 201, reply.body
    return seller, reply.data


async def checkout(client: ApiClient, buyer: User, product_id: str, quantity: int = 1, **kw: Any) -> Reply:
    return await client.post("/marketplace/orders", user=buyer,
                             json={"items": [{"product_id": product_id, "quantity": quantity}],
                                   "payment_method": "card"}, **kw)


async def sandbox_pay(client: ApiClient, order: dict[str, Any], outcome: str = "succeed") -> Reply:
    payment = order["payment"]
    return await client.post(f"/sandbox/payments/{payment['payment_id']}/confirm",
                             json={"client_secret": payment["client_secret"], "outcome": outcome})


async def order_status(client: ApiClient, user: User, order_id: str) -> str:
    reply = await client.get(f"/marketplace/orders/{order_id}", user=user)
    assert reply.status == 200, reply.body
    return reply.data["status"]


async def wait_for_status(client: ApiClient, user: User, order_id: str, status: str, timeout: float = 10.0) -> None:
    """Webhooks land on their own schedule (the sandbox's refund events are delivered later)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (current := await order_status(client, user, order_id)) != status:
        assert asyncio.get_running_loop().time() < deadline, f"order {order_id} stayed {current}, wanted {status}"
        await asyncio.sleep(0.05)


async def bought(client: ApiClient, **fields: Any) -> tuple[User, User, dict[str, Any], dict[str, Any]]:
    """(seller, buyer, product, paid order)."""
    seller, product = await seller_with_product(client, **fields)
    buyer = await client.register()
    reply = await checkout(client, buyer, product["id"])
    assert reply.status == 201, reply.body
    paid = await sandbox_pay(client, reply.data)
    assert paid.status == 200, paid.body
    assert await order_status(client, buyer, reply.data["id"]) == "paid"
    return seller, buyer, product, reply.data
