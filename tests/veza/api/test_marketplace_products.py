"""Products: creators sell, everyone browses active ones, only the seller changes them."""

from __future__ import annotations

import uuid

import pytest

from tests.support import ApiClient
from tests.veza.api.market_helpers import bought, seller_with_product
from tests.veza.api.track_helpers import make_track


async def test_a_creator_puts_a_product_on_sale(client: ApiClient) -> None:
    seller, product = await seller_with_product(client, description="Twelve stems", stock=5, currency="usd")
    assert product["status"] == "active" and product["currency"] == "USD" and product["price_cents"] == 2999
    assert product["seller"] == {"id": seller.id, "username": seller.username}
    assert product["stock"] == 5 and product["stock_remaining"] == 5
    assert product["rating_avg"] is None and product["review_count"] == 0
    public = await client.get(f"/marketplace/products/{product['id']}")
    assert public.status == 200 and public.data["id"] == product["id"]


async def test_unlimited_stock_is_null_remaining(client: ApiClient) -> None:
    _, product = await seller_with_product(client)
    assert product["stock"] is None and product["stock_remaining"] is None


async def test_only_creators_and_admins_sell(client: ApiClient) -> None:
    body = {"title": "x", "price_cents": 100, "kind": "merch"}
    assert (await client.post("/marketplace/products", json=body)).status == 401
    user = await client.register()
    refused = await client.post("/marketplace/products", user=user, json=body)
    assert refused.status == 403
    admin = await client.register(role="admin")
    assert (await client.post("/marketplace/products", user=admin, json=body)).status == 201


@pytest.mark.parametrize("change", [
    {"price_cents": 0}, {"price_cents": 100_000_001}, {"price_cents": 9.5}, {"price_cents": "100"},
    {"currency": "EURO"}, {"currency": "E1R"}, {"kind": "nft"}, {"stock": -1}, {"status": "archived"},
    {"title": ""}, {"title": "t" * 201}, {"description": "d" * 5001}, {"price": 100}, {"kind": "track"},
    {"track_id": "not-a-uuid"},
])
async def test_bad_products_are_400s(client: ApiClient, change: dict) -> None:
    seller = await client.register(role="creator")
    body = {"title": "Stems", "price_cents": 100, "kind": "merch", **change}
    reply = await client.post("/marketplace/products", user=seller, json=body)
    assert reply.status == 400, (change, reply.body)
    assert reply.body["success"] is False and reply.body["details"]


async def test_a_track_product_sells_one_of_the_sellers_own_tracks(client: ApiClient) -> None:
    seller = await client.register(role="creator")
    other = await client.register(role="creator")
    track = await make_track(client, seller)
    foreign = await make_track(client, other)
    ok = await client.post("/marketplace/products", user=seller,
                           json={"title": "Single", "price_cents": 129, "kind": "track", "track_id": track["id"]})
    assert ok.status == 201 and ok.data["track_id"] == track["id"] and ok.data["downloadable"] is True
    for track_id in (foreign["id"], str(uuid.uuid4())):
        refused = await client.post("/marketplace/products", user=seller,
                                    json={"title": "Single", "price_cents": 129, "kind": "track", "track_id": track_id})
        assert refused.status == 400 and "track_id" in refused.body["details"]


async def test_listing_search_sort_and_seller_filter(client: ApiClient) -> None:
    seller = await client.register(role="creator")
    tag = uuid.uuid4().hex[:8]
    for title, price in ((f"Analog {tag} Drums", 500), (f"Modular {tag} Textures", 1500), (f"Tape {tag} Loops", 900)):
        reply = await client.post("/marketplace/products", user=seller,
                                  json={"title": title, "price_cents": price, "kind": "sample_pack"})
        assert reply.status == 201
    draft = await client.post("/marketplace/products", user=seller,
                              json={"title": f"Secret {tag}", "price_cents": 1, "kind": "merch", "status": "draft"})
    assert draft.status == 201
    mine = await client.get("/marketplace/products", params={"seller_id": seller.id, "sort": "price_asc"})
    assert mine.data["total"] == 3  # the draft is not listed
    assert [p["price_cents"] for p in mine.data["products"]] == [500, 900, 1500]
    desc = await client.get("/marketplace/products", params={"seller_id": seller.id, "sort": "price_desc", "limit": 2})
    assert [p["price_cents"] for p in desc.data["products"]] == [1500, 900] and desc.data["total"] == 3
    page2 = await client.get("/marketplace/products",
                             params={"seller_id": seller.id, "sort": "price_desc", "limit": 2, "offset": 2})
    assert [p["price_cents"] for p in page2.data["products"]] == [500]
    found = await client.get("/marketplace/products", params={"search": f"modular {tag}"})
    assert found.data["products"][0]["title"] == f"Modular {tag} Textures"  # then typo-tolerant neighbours
    prefix = await client.get("/marketplace/products", params={"search": f"textu {tag}"})
    assert prefix.data["products"][0]["title"] == f"Modular {tag} Textures"
    hidden = await client.get("/marketplace/products", params={"search": f"secret {tag}"})
    assert all(p["status"] == "active" for p in hidden.data["products"])
    assert f"Secret {tag}" not in [p["title"] for p in hidden.data["products"]]
    for bad in ({"sort": "cheapest"}, {"limit": 0}, {"limit": 101}, {"offset": -1}, {"seller_id": "x"}):
        assert (await client.get("/marketplace/products", params=bad)).status == 400, bad


async def test_drafts_are_seen_by_their_seller_only(client: ApiClient) -> None:
    seller, product = await seller_with_product(client, status="draft")
    assert (await client.get(f"/marketplace/products/{product['id']}")).status == 404
    stranger = await client.register()
    assert (await client.get(f"/marketplace/products/{product['id']}", user=stranger)).status == 404
    assert (await client.get(f"/marketplace/products/{product['id']}", user=seller)).status == 200
    assert (await client.get(f"/marketplace/products/{uuid.uuid4()}")).status == 404
    assert (await client.get("/marketplace/products/not-a-uuid")).status == 404


async def test_only_the_seller_changes_or_removes_a_product(client: ApiClient) -> None:
    seller, product = await seller_with_product(client, stock=10)
    path = f"/marketplace/products/{product['id']}"
    stranger = await client.register(role="creator")
    assert (await client.put(path, json={"price_cents": 1})).status == 401
    assert (await client.put(path, user=stranger, json={"price_cents": 1})).status == 403
    assert (await client.delete(path, user=stranger)).status == 403
    changed = await client.put(path, user=seller, json={"price_cents": 1999, "title": "Renamed", "stock": None})
    assert changed.status == 200 and changed.data["price_cents"] == 1999 and changed.data["stock"] is None
    assert (await client.put(path, user=seller, json={"price_cents": 0})).status == 400
    removed = await client.delete(path, user=seller)
    assert removed.status == 200 and removed.data["status"] == "deleted"
    assert (await client.get(path)).status == 404


async def test_a_product_already_ordered_is_archived_not_deleted(client: ApiClient) -> None:
    seller, buyer, product, order = await bought(client, stock=3)
    path = f"/marketplace/products/{product['id']}"
    stock_too_low = await client.put(path, user=seller, json={"stock": 0})
    assert stock_too_low.status == 409  # one unit is sold
    removed = await client.delete(path, user=seller)
    assert removed.status == 200 and removed.data["status"] == "archived"
    assert (await client.get(path)).status == 404  # off the shop
    assert (await client.get(path, user=seller)).data["status"] == "archived"
    kept = await client.get(f"/marketplace/orders/{order['id']}", user=buyer)
    assert kept.data["items"][0]["title"] == product["title"]
    assert (await client.put(path, user=seller, json={"title": "again"})).status == 409
