"""The buyer's sockets hear of their order's committed changes (order_updated), and the
seller's of the sale (a notification), as the marketplace's webhooks apply them."""

from __future__ import annotations

from tests.support import ApiClient
from tests.veza.api.market_helpers import checkout, sandbox_pay, seller_with_product
from tests.veza.ws.test_live import Watcher


async def test_paying_pushes_order_updated_to_the_buyer_and_a_sale_to_the_seller(client: ApiClient) -> None:
    seller, product = await seller_with_product(client)
    buyer = await client.register()
    order = (await checkout(client, buyer, product["id"])).data
    buyer_socket, seller_socket = Watcher(await client.ws(buyer)), Watcher(await client.ws(seller))
    for w in (buyer_socket, seller_socket):
        await w.ws.send_json({"type": "ping"})
        await w.next("pong")
    assert (await sandbox_pay(client, order)).status == 200
    update = await buyer_socket.next("order_updated")
    assert update["order"]["id"] == order["id"] and update["order"]["status"] == "paid"
    sale = await seller_socket.next("notification")
    assert sale["notification"]["kind"] == "sale"
    assert sale["notification"]["data"]["order_id"] == order["id"]
    assert sale["notification"]["data"]["amount_cents"] == product["price_cents"]
    assert not any('"order_updated"' in raw for raw in seller_socket.seen)
    for w in (buyer_socket, seller_socket):
        await w.ws.close()
