"""GET /notifications and POST /notifications/:id/read: mine only."""

from __future__ import annotations

import uuid

from tests.support import ApiClient


async def test_list_paginate_and_mark_read(client: ApiClient) -> None:
    me = await client.register()
    fans = [await client.register() for _ in range(3)]
    for fan in fans:
        assert (await client.post(f"/users/{me.id}/follow", user=fan)).status == 200
    page = await client.get("/notifications", user=me, params={"limit": "2"})
    assert page.status == 200 and page.data["total"] == 3 and page.data["unread_count"] == 3
    assert [n["actor_username"] for n in page.data["notifications"]] == [fans[2].username, fans[1].username]
    assert all(n["kind"] == "follow" and n["read"] is False for n in page.data["notifications"])
    first = page.data["notifications"][0]["id"]
    read = await client.post(f"/notifications/{first}/read", user=me)
    assert read.status == 200 and read.data["read"] is True and read.data["read_at"]
    again = await client.post(f"/notifications/{first}/read", user=me)
    assert again.status == 200 and again.data["read_at"] == read.data["read_at"]
    after = await client.get("/notifications", user=me)
    assert after.data["unread_count"] == 2
    unread = await client.get("/notifications", user=me, params={"unread": "true"})
    assert unread.data["total"] == 2 and all(not n["read"] for n in unread.data["notifications"])


async def test_someone_elses_notification_is_404(client: ApiClient) -> None:
    me = await client.register()
    other = await client.register()
    await client.post(f"/users/{me.id}/follow", user=other)
    mine = (await client.get("/notifications", user=me)).data["notifications"][0]["id"]
    assert (await client.post(f"/notifications/{mine}/read", user=other)).status == 404
    assert (await client.post(f"/notifications/{uuid.uuid4()}/read", user=me)).status == 404
    assert (await client.post("/notifications/garbage/read", user=me)).status == 404
    assert (await client.post(f"/notifications/{mine}/read")).status == 401
    assert (await client.get("/notifications")).status == 401
    assert (await client.get("/notifications", user=me, params={"limit": "101"})).status == 400
    assert (await client.get("/notifications", user=me)).data["unread_count"] == 1


async def test_toggling_a_follow_does_not_repeat_an_unread_notice(client: ApiClient) -> None:
    me, fan = await client.register(), await client.register()
    for _ in range(3):
        assert (await client.post(f"/users/{me.id}/follow", user=fan)).status == 200
        assert (await client.delete(f"/users/{me.id}/follow", user=fan)).status in (200, 204)
    listed = (await client.get("/notifications", user=me)).data
    assert listed["total"] == 1 and listed["notifications"][0]["kind"] == "follow"
    # Once read, a new follow is news again.
    await client.post(f"/notifications/{listed['notifications'][0]['id']}/read", user=me)
    assert (await client.post(f"/users/{me.id}/follow", user=fan)).status == 200
    assert (await client.get("/notifications", user=me)).data["unread_count"] == 1
    # Another fan's follow is its own notice.
    other = await client.register()
    await client.post(f"/users/{me.id}/follow", user=other)
    assert (await client.get("/notifications", user=me)).data["unread_count"] == 2
