"""Live shopping: pinned products in stream_state and stream_products, and sales of them
announced to the stream's watchers as stream_sale, coalesced, anonymous when asked."""

from __future__ import annotations

import uuid

import pytest

from tests.support import ApiClient
from tests.veza.api.market_helpers import checkout, sandbox_pay
from tests.veza.live_support import HOOK_SECRET, publish_rtmp
from tests.veza.ws.test_live import Watcher, watcher
from veza import keys
from veza.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_hook_secret=HOOK_SECRET, live_viewers_interval=0.1)


async def _shop(client: ApiClient) -> tuple:
    owner = await client.register(role="creator")
    stream = (await client.post("/live/streams", json={"title": "Release party"}, user=owner)).data
    products = []
    for title, stock in (("Vinyl LP", 10), ("Tour shirt", None)):
        reply = await client.post("/marketplace/products", user=owner,
                                  json={"title": title, "price_cents": 2500, "kind": "merch", "stock": stock})
        products.append(reply.data)
    return owner, stream, products


async def test_pinned_products_reach_watchers(client: ApiClient) -> None:
    owner, stream, products = await _shop(client)
    sid = stream["id"]
    w, state = await watcher(client, sid)
    assert "products" not in state  # none pinned yet: the frame is unchanged
    path = f"/live/streams/{sid}/products"
    ids = [products[1]["id"], products[0]["id"]]
    pinned = await client.put(path, user=owner, json={"product_ids": ids})
    assert pinned.status == 200 and [p["id"] for p in pinned.data["products"]] == ids
    frame = await w.next("stream_products")
    assert [p["id"] for p in frame["products"]] == ids and frame["products"][1]["stock_remaining"] == 10
    _, state2 = await watcher(client, sid)
    assert [p["title"] for p in state2["products"]] == ["Tour shirt", "Vinyl LP"]
    assert [p["id"] for p in (await client.get(path)).data["products"]] == ids
    await w.ws.close()


async def test_only_the_owner_pins_their_own_active_products(client: ApiClient) -> None:
    owner, stream, products = await _shop(client)
    path = f"/live/streams/{stream['id']}/products"
    body = {"product_ids": [products[0]["id"]]}
    assert (await client.put(path, json=body)).status == 401
    assert (await client.put(path, user=await client.register(), json=body)).status == 403
    other = await client.register(role="creator")
    theirs = (await client.post("/marketplace/products", user=other,
                                json={"title": "x", "price_cents": 1, "kind": "merch"})).data
    assert (await client.put(path, user=owner, json={"product_ids": [theirs["id"]]})).status == 400
    assert (await client.put(path, user=owner, json={"product_ids": [str(uuid.uuid4())]})).status == 400
    assert (await client.put(path, user=owner, json={"product_ids": [str(uuid.uuid4())] * 21})).status == 400
    assert (await client.put(f"/live/streams/{uuid.uuid4()}/products", user=owner, json=body)).status == 404
    assert (await client.put(path, user=owner, json={"product_ids": []})).data == {"products": []}


async def test_sales_during_the_stream_reach_watchers_coalesced(client: ApiClient) -> None:
    owner, stream, products = await _shop(client)
    sid = stream["id"]
    vinyl = products[0]
    await client.put(f"/live/streams/{sid}/products", user=owner, json={"product_ids": [vinyl["id"]]})
    async with client.app[keys.db].connection() as conn:
        key = await conn.fetchval("SELECT stream_key FROM live_streams WHERE id = $1", uuid.UUID(sid))
    w, _ = await watcher(client, sid)
    assert (await publish_rtmp(client, key)).status == 302
    await w.next("stream_live")
    fan = await client.register()
    private = await client.register()
    orders = [(await checkout(client, fan, vinyl["id"])).data for _ in range(3)]
    hidden = (await checkout(client, private, vinyl["id"], headers={"Sec-GPC": "1"})).data
    for order in orders:
        assert (await sandbox_pay(client, order)).status == 200
    assert (await sandbox_pay(client, hidden)).status == 200
    announced, frames = 0, []
    while announced < 4:
        frame = await w.next("stream_sale")
        frames.append(frame)
        announced += frame["sales"]
    assert announced == 4 and len(frames) <= 4
    last = frames[-1]
    assert last["product_id"] == vinyl["id"] and last["sold"] == 4 and last["remaining"] == 6
    assert last["buyer"] == "anonymous"  # the last buyer sent Sec-GPC
    assert any(f["buyer"] == fan.username for f in frames) or len(frames) == 1
    assert all(private.username not in raw for raw in w.seen)
    await w.ws.close()


async def test_sales_off_air_are_not_announced(client: ApiClient) -> None:
    owner, stream, products = await _shop(client)
    sid = stream["id"]
    await client.put(f"/live/streams/{sid}/products", user=owner, json={"product_ids": [products[0]["id"]]})
    w, _ = await watcher(client, sid)
    fan = await client.register()
    await sandbox_pay(client, (await checkout(client, fan, products[0]["id"])).data)
    await client.put(f"/live/streams/{sid}/products", user=owner, json={"product_ids": []})
    frame = await w.next("stream_products")  # the next frame after the sale is the unpin
    assert frame["products"] == []
    assert not any('"stream_sale"' in raw for raw in w.seen)
    await w.ws.close()
