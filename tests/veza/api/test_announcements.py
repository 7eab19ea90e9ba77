"""Announcements: public active window, admin list/create/delete, live event on create."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.support import ApiClient
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
             ({**base, "starts_at": "tomorrow"}, "starts_at"), ({**base, "starts_at": "2030-01-01T00:00:00"}, "starts_at")]
    for body, field in cases:
        reply = await client.post("/admin/announcements", user=admin, json=body)
        assert reply.status == 400, (body, reply.body)
        assert field in reply.body["details"], (body, reply.body)
