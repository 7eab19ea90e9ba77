"""Gear repairs: record, list newest first, delete; checked inputs; the owner's only."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.support import ApiClient, User


async def _gear(client: ApiClient, user: User) -> str:
    reply = await client.post("/inventory/gear", user=user, json={"name": "Rhodes"})
    assert reply.status == 201, reply.body
    return reply.data["id"]


async def test_record_list_and_delete_repairs(client: ApiClient) -> None:
    me = await client.register()
    gear = await _gear(client, me)
    path = f"/inventory/gear/{gear}/repairs"
    made = await client.post(path, user=me, json={"repair_date": "2026-02-15", "description": " Tines re-aligned ",
                                                  "cost_cents": 8500, "currency": "eur", "provider": "Atelier V"})
    assert made.status == 201, made.body
    assert made.data == {**made.data, "gear_id": gear, "repair_date": "2026-02-15", "description": "Tines re-aligned",
                         "cost_cents": 8500, "currency": "EUR", "provider": "Atelier V"}
    assert made.data["created_at"].endswith("Z")
    older = (await client.post(path, user=me, json={"repair_date": "2025-06-01", "description": "Pickup"})).data
    today = (await client.post(path, user=me, json={"description": "Cleaned"})).data
    assert today["repair_date"] == dt.datetime.now(dt.UTC).date().isoformat() and today["cost_cents"] is None
    listed = await client.get(path, user=me)
    assert listed.status == 200 and listed.data["total"] == 3
    assert [r["id"] for r in listed.data["repairs"]] == [today["id"], made.data["id"], older["id"]]
    page = await client.get(path + "?limit=1&offset=1", user=me)
    assert [r["id"] for r in page.data["repairs"]] == [made.data["id"]]
    assert (await client.delete(f"{path}/{older['id']}", user=me)).status == 200
    assert (await client.delete(f"{path}/{older['id']}", user=me)).status == 404
    assert (await client.get(path, user=me)).data["total"] == 2


async def test_bad_repairs_are_400(client: ApiClient) -> None:
    me = await client.register()
    path = f"/inventory/gear/{await _gear(client, me)}/repairs"
    for bad in ({}, {"description": ""}, {"description": "   "}, {"description": "x", "repair_date": "2026-02-30"},
                {"description": "x", "repair_date": "15/02/2026"}, {"description": "x", "cost_cents": -1, "currency": "EUR"},
                {"description": "x", "cost_cents": 100}, {"description": "x", "cost_cents": 1, "currency": "ABC"},
                {"description": "x", "currency": "EURO"}, {"description": "x", "cost_cents": "12"},
                {"description": "x" * 5001}, {"description": "x", "provider": "p" * 201}, {"description": "x", "extra": 1}):
        reply = await client.post(path, user=me, json=bad)
        assert reply.status == 400, (bad, reply.body)
    assert (await client.get(path + "?limit=0", user=me)).status == 400


async def test_repairs_are_the_owners_and_under_their_gear(client: ApiClient) -> None:
    me, other = await client.register(), await client.register()
    gear, second = await _gear(client, me), await _gear(client, me)
    repair = (await client.post(f"/inventory/gear/{gear}/repairs", user=me, json={"description": "x"})).data
    assert (await client.post(f"/inventory/gear/{gear}/repairs", user=other, json={"description": "y"})).status == 404
    assert (await client.get(f"/inventory/gear/{gear}/repairs", user=other)).status == 404
    assert (await client.post(f"/inventory/gear/{uuid.uuid4()}/repairs", user=me, json={"description": "y"})).status == 404
    assert (await client.delete(f"/inventory/gear/{gear}/repairs/{repair['id']}", user=other)).status == 404
    assert (await client.delete(f"/inventory/gear/{second}/repairs/{repair['id']}", user=me)).status == 404
    assert (await client.get(f"/inventory/gear/{gear}/repairs", user=me)).data["total"] == 1


async def test_gear_answers_declared_shapes(client: ApiClient) -> None:
    me = await client.register()
    made = await client.post("/inventory/gear", user=me, json={"name": "Juno", "purchase_date": "2024-03-01",
                                                                "warranty_expires": "2027-03-01", "currency": "jpy",
                                                                "purchase_price_cents": 10})
    assert made.status == 201 and made.data["purchase_date"] == "2024-03-01" and made.data["currency"] == "JPY"
    assert made.data["created_at"].endswith("Z") and made.data["owner_id"] == me.id
    assert (await client.post("/inventory/gear", user=me, json={"name": "x", "currency": "QQQ"})).status == 400
    doc = await client.get("/api/v1/openapi.json")
    op = doc.body["paths"]["/api/v1/inventory/gear/{id}"]["get"]
    assert "GearOut" in str(op["responses"]["200"])
