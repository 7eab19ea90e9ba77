"""Announcements: public active window, admin list/create/delete, live event when one becomes
active (at creation, or at its start when scheduled)."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.support import ApiClient, User
from tests.veza.ws.chat_support import until


def _iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).isoformat().replace("+00:00", "Z")


async def test_active_window_and_admin_lifecycle(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    anonymous, signed_in = await client.ws(), await client.ws(await client.register())
    tag = uuid.uuid4().hex[:8]
    now = await client.post("/admin/announcements", user=admin,
                            json={"title": f"now {tag}", "content": "Scheduled upgrade", "type": "warning"})
    assert now.status == 201 and now.data["type"] == "warning"
    later = await client.post("/admin/announcements", user=admin,
                              json={"title": f"later {tag}", "content": "x", "starts_at": _iso(dt.timedelta(hours=1))})
    past = await client.post("/admin/announcements", user=admin,
                             json={"title": f"past {tag}", "content": "x", "starts_at": _iso(-dt.timedelta(hours=2)),
                                   "ends_at": _iso(-dt.timedelta(hours=1))})
    assert later.status == past.status == 201
    active = await client.get("/announcements/active")
    titles = [a["title"] for a in active.data["announcements"]]
    assert f"now {tag}" in titles and f"later {tag}" not in titles and f"past {tag}" not in titles
    listed = (await client.get("/admin/announcements?limit=100", user=admin)).data
    assert {f"now {tag}", f"later {tag}", f"past {tag}"} <= {a["title"] for a in listed["announcements"]}
    for ws in (anonymous, signed_in):  # every socket hears it, no subscription needed
        event = await until(ws, "announcement")
        assert event["announcement"]["id"] == now.data["id"] and event["announcement"]["type"] == "warning"
        await ws.close()
    assert (await client.delete(f"/admin/announcements/{now.data['id']}", user=admin)).status == 200
    assert f"now {tag}" not in [a["title"] for a in (await client.get("/announcements/active")).data["announcements"]]
    assert (await client.delete(f"/admin/announcements/{now.data['id']}", user=admin)).status == 404


async def test_create_bad_input(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    base = {"title": "t", "content": "c"}
    cases = [({**base, "type": "party"}, "type"), ({"content": "c"}, "title"), ({**base, "title": " "}, "title"),
             ({**base, "content": "x" * 5001}, "content"), ({**base, "ends_at": _iso(-dt.timedelta(minutes=1))}, "ends_at"),
             ({**base, "starts_at": "tomorrow"}, "starts_at"), ({**base, "starts_at": "2030-01-01T00:00:00"}, "starts_at"),
             # Out of 1970..9998 (UTC): year 1 at +01:00 and 9999 at -05:00 overflowed into a 500.
             ({**base, "starts_at": "0001-01-01T00:00:00+01:00"}, "starts_at"),
             ({**base, "starts_at": "0001-01-01T00:00:00Z"}, "starts_at"),
             ({**base, "starts_at": "1969-12-31T23:59:59Z"}, "starts_at"),
             ({**base, "ends_at": "9999-12-31T23:59:59-05:00"}, "ends_at"),
             ({**base, "ends_at": "9999-01-01T00:00:00Z"}, "ends_at")]
    for body, field in cases:
        reply = await client.post("/admin/announcements", user=admin, json=body)
        assert reply.status == 400, (body, reply.body)
        assert field in reply.body["details"], (body, reply.body)
    ok = await client.post("/admin/announcements", user=admin, json={**base, "ends_at": "9998-12-31T23:59:59-00:00"})
    assert ok.status == 201 and ok.data["ends_at"] == "9998-12-31T23:59:59Z", ok.body
    await client.delete(f"/admin/announcements/{ok.data['id']}", user=admin)


async def test_list_offset_is_bounded(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    for offset in ("9223372036854775808", "100001", "-1"):
        reply = await client.get(f"/admin/announcements?offset={offset}", user=admin)
        assert reply.status == 400 and "offset" in reply.body["details"], (offset, reply.body)
    assert (await client.get("/admin/announcements?offset=100000", user=admin)).status == 200


async def announce(client: ApiClient, admin: User, title: str, start: dt.timedelta | None = None) -> str:
    body = {"title": title, "content": "c"} | ({"starts_at": _iso(start)} if start is not None else {})
    reply = await client.post("/admin/announcements", user=admin, json=body)
    assert reply.status == 201, reply.body
    return str(reply.data["id"])


async def next_announcement(ws) -> str:  # type: ignore[no-untyped-def]
    """The id in the next `announcement` event (generous: a scheduled one comes at its start)."""
    return str((await until(ws, "announcement", timeout=20.0))["announcement"]["id"])


async def test_a_scheduled_announcement_is_pushed_at_its_start_once_unless_deleted(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    ws = await client.ws()
    deleted = await announce(client, admin, "deleted", dt.timedelta(seconds=2))
    scheduled = await announce(client, admin, "scheduled", dt.timedelta(seconds=3))
    assert (await client.delete(f"/admin/announcements/{deleted}", user=admin)).status == 200
    marker = await announce(client, admin, "active now")
    # In order: the active one (nothing at the scheduled ones' creation), then the one left at its
    # start (the deleted one, due earlier, never), then only what comes next (no second copy).
    assert await next_announcement(ws) == marker
    assert await next_announcement(ws) == scheduled
    assert scheduled in [a["id"] for a in (await client.get("/announcements/active")).data["announcements"]]
    after = await announce(client, admin, "after")
    assert await next_announcement(ws) == after
    await ws.close()
