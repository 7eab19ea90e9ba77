"""Gear CRUD: owner-scoped, validated, 404 for another user's ids."""

from __future__ import annotations

from tests.support import ApiClient


async def test_gear_crud_and_isolation(client: ApiClient) -> None:
    me, other = await client.register(), await client.register()
    made = await client.post("/inventory/gear", user=me, json={
        "name": "Strat", "brand": "Fender", "category": "guitar", "purchase_date": "2024-03-01",
        "purchase_price_cents": 120000, "currency": "eur", "condition": "good"})
    assert made.status == 201, made.body
    gear = made.data
    assert gear["currency"] == "EUR" and gear["status"] == "active" and gear["purchase_date"] == "2024-03-01"
    listed = await client.get("/inventory/gear?q=fend&category=guitar", user=me)
    assert listed.status == 200 and listed.data["total"] == 1
    assert (await client.get("/inventory/gear", user=other)).data["total"] == 0
    path = f"/inventory/gear/{gear['id']}"
    for method in ("GET", "PATCH", "DELETE"):
        assert (await client.call(method, path, user=other, json={"notes": "x"})).status == 404
    changed = await client.call("PATCH", path, user=me, json={"status": "in_repair"})
    assert changed.status == 200 and changed.data["status"] == "in_repair"
    for bad in ({"name": ""}, {"name": "x", "condition": "mint"}, {"name": "x", "purchase_date": "2024-13-01"},
                {"name": "x", "purchase_price_cents": -1, "currency": "EUR"}, {"brand": "x"}, {"name": "x", "currency": "EURO"}):
        assert (await client.post("/inventory/gear", user=me, json=bad)).status == 400, bad
    assert (await client.delete(path, user=me)).status == 200
    assert (await client.get(path, user=me)).status == 404
