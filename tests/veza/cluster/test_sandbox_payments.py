"""The sandbox payment provider on a cluster: its payments are rows, so a checkout made on
one node is paid on another (a load balancer sends the checkout page anywhere), and
confirming twice, on either node, pays once."""

from __future__ import annotations

from tests.veza.api.market_helpers import checkout, order_status, sandbox_pay, seller_with_product
from tests.veza.cluster.test_nodes import Nodes, node  # noqa: F401 - the fixture

from veza import keys


async def test_a_payment_made_on_one_node_is_confirmed_on_another_once(node: Nodes) -> None:  # noqa: F811
    a, b = await node("node-a"), await node("node-b")
    _, product = await seller_with_product(a)
    buyer = await a.register()
    made = await checkout(a, buyer, product["id"])
    assert made.status == 201, made.body

    paid = await sandbox_pay(b, made.data)
    assert paid.status == 200 and paid.data["status"] == "succeeded", paid.body
    assert await order_status(a, buyer, made.data["id"]) == "paid"
    again = await sandbox_pay(a, made.data, outcome="decline")
    assert again.status == 409 and "already succeeded" in again.body["error"], again.body
    async with a.app[keys.db].connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM webhook_events WHERE payload->'content'->'object'->>'payment_id'"
                                   " = $1", made.data["payment"]["payment_id"]) == 1
