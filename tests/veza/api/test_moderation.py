"""Moderation: reports, admin resolution (resolve, dismiss, ban, warn) and their effects."""

from __future__ import annotations

import asyncio
import uuid

from tests.support import PASSWORD, ApiClient
from tests.veza.api.track_helpers import make_track
from veza import keys
from tests.veza.ws.chat_support import until


async def _report(client: ApiClient, reporter, content_type: str, content_id: str, reason: str = "spam") -> dict:  # type: ignore[no-untyped-def]
    reply = await client.post("/reports", user=reporter,
                              json={"content_type": content_type, "content_id": content_id, "reason": reason})
    assert reply.status == 201, reply.body
    return reply.data


async def test_report_then_list_by_status(client: ApiClient) -> None:
    admin, reporter, target = await client.register(role="admin"), await client.register(), await client.register()
    report = await _report(client, reporter, "user", target.id)
    assert report["status"] == "pending" and report["reporter_id"] == reporter.id
    pending = (await client.get("/admin/reports?status=pending&limit=100", user=admin)).data
    assert report["id"] in [r["id"] for r in pending["reports"]]
    done = await client.post(f"/admin/reports/{report['id']}/resolve", user=admin, json={"action": "dismiss"})
    assert done.status == 200 and done.data["status"] == "dismissed" and done.data["resolved_by"] == admin.id
    dismissed = (await client.get("/admin/reports?status=dismissed&limit=100", user=admin)).data
    assert report["id"] in [r["id"] for r in dismissed["reports"]]
    every = (await client.get("/admin/reports?status=all&limit=100", user=admin)).data
    assert every["total"] >= dismissed["total"]
    again = await client.post(f"/admin/reports/{report['id']}/resolve", user=admin, json={"action": "resolve"})
    assert again.status == 409


async def test_duplicate_open_report_is_409(client: ApiClient) -> None:
    reporter, target = await client.register(), await client.register()
    await _report(client, reporter, "user", target.id)
    dup = await client.post("/reports", user=reporter, json={"content_type": "user", "content_id": target.id, "reason": "x"})
    assert dup.status == 409


async def test_ban_blocks_login_revokes_sessions_and_announces(client: ApiClient) -> None:
    admin, reporter, target = await client.register(role="admin"), await client.register(), await client.register()
    key = (await client.post("/developer/api-keys", user=target, json={"name": "k"})).data["key"]
    announced: list[tuple] = []

    async def listener(user_id, session_ids, keep) -> None:  # type: ignore[no-untyped-def]
        announced.append((user_id, session_ids))

    client.app[keys.session_events].subscribe(listener)
    report = await _report(client, reporter, "user", target.id, "abuse")
    banned = await client.post(f"/admin/reports/{report['id']}/resolve", user=admin, json={"action": "ban"})
    assert banned.status == 200 and banned.data["action"] == "ban" and banned.data["target_user_id"] == target.id
    assert announced == [(uuid.UUID(target.id), None)]
    assert (await client.get("/users/me", user=target)).status == 401
    assert (await client.get("/users/me", headers={"X-API-Key": key})).status == 403
    login = await client.post("/auth/login", json={"email": target.email, "password": PASSWORD})
    assert login.status == 403
    assert (await client.post("/auth/refresh", json={"refresh_token": target.refresh_token})).status == 401


async def test_admins_cannot_be_banned(client: ApiClient) -> None:
    admin, other_admin, reporter = (await client.register(role="admin"), await client.register(role="admin"),
                                    await client.register())
    report = await _report(client, reporter, "user", other_admin.id)
    reply = await client.post(f"/admin/reports/{report['id']}/resolve", user=admin, json={"action": "ban"})
    assert reply.status == 403
    assert (await client.get("/users/me", user=other_admin)).status == 200


async def test_warn_stores_a_warning_and_notifies(client: ApiClient) -> None:
    admin, reporter, author = await client.register(role="admin"), await client.register(), await client.register()
    socket = await client.ws(author)
    report = await _report(client, reporter, "user", author.id, "stolen music")
    warned = await client.post(f"/admin/reports/{report['id']}/resolve", user=admin,
                               json={"action": "warn", "message": "Please credit samples"})
    assert warned.status == 200 and warned.data["status"] == "resolved" and warned.data["target_user_id"] == author.id
    mine = (await client.get("/users/me/warnings", user=author)).data
    assert mine["total"] == 1 and mine["warnings"][0]["message"] == "Please credit samples"
    assert mine["warnings"][0]["report_id"] == report["id"]
    assert (await client.get("/users/me/warnings", user=reporter)).data["total"] == 0
    event = await until(socket, "notification")
    assert event["notification"]["kind"] == "moderation_warning"
    assert event["notification"]["data"]["message"] == "Please credit samples"
    listed = (await client.get("/notifications", user=author)).data
    assert [n["kind"] for n in listed["notifications"]] == ["moderation_warning"]
    await socket.close()


async def test_ban_and_warn_fall_on_the_owner_of_a_track_or_comment(client: ApiClient) -> None:
    admin, reporter = await client.register(role="admin"), await client.register()
    artist, commenter = await client.register(role="creator"), await client.register()
    track = await make_track(client, artist)
    comment = await client.post(f"/tracks/{track['id']}/comments", user=commenter, json={"content": "buy followers at"})
    assert comment.status == 201, comment.body
    on_track = await _report(client, reporter, "track", track["id"], "stolen music")
    on_comment = await _report(client, reporter, "comment", comment.data["id"], "spam link")
    warned = await client.post(f"/admin/reports/{on_track['id']}/resolve", user=admin, json={"action": "warn"})
    assert warned.status == 200 and warned.data["target_user_id"] == artist.id
    assert (await client.get("/users/me/warnings", user=artist)).data["total"] == 1
    banned = await client.post(f"/admin/reports/{on_comment['id']}/resolve", user=admin, json={"action": "ban"})
    assert banned.status == 200 and banned.data["target_user_id"] == commenter.id
    login = await client.post("/auth/login", json={"email": commenter.email, "password": PASSWORD})
    assert login.status == 403
    # Content reported and deleted since: the admin must say whose account it is.
    gone = await make_track(client, artist)
    late = await _report(client, reporter, "track", gone["id"])
    assert (await client.delete(f"/tracks/{gone['id']}", user=artist)).status in (200, 204)
    unknown = await client.post(f"/admin/reports/{late['id']}/resolve", user=admin, json={"action": "warn"})
    assert unknown.status == 400 and "user_id" in unknown.body["details"]
    named = await client.post(f"/admin/reports/{late['id']}/resolve", user=admin,
                              json={"action": "warn", "user_id": artist.id})
    assert named.status == 200 and named.data["target_user_id"] == artist.id


async def test_ban_closes_the_users_sockets(client: ApiClient) -> None:
    admin, reporter, target = await client.register(role="admin"), await client.register(), await client.register()
    socket = await client.ws(target)
    report = await _report(client, reporter, "user", target.id)
    await client.post(f"/admin/reports/{report['id']}/resolve", user=admin, json={"action": "ban"})
    message = await socket.receive(timeout=5)
    while message.type.name == "TEXT":  # frames queued before the close
        message = await socket.receive(timeout=5)
    assert socket.closed and socket.close_code == 4001


async def test_concurrent_resolutions_one_wins(client: ApiClient) -> None:
    admin, reporter, target = await client.register(role="admin"), await client.register(), await client.register()
    report = await _report(client, reporter, "user", target.id)
    replies = await asyncio.gather(*(client.post(f"/admin/reports/{report['id']}/resolve", user=admin,
                                                 json={"action": a}) for a in ("resolve", "dismiss", "warn")))
    assert sorted(r.status for r in replies) == [200, 409, 409]


async def test_report_bad_input_and_auth(client: ApiClient) -> None:
    assert (await client.post("/reports", json={})).status == 401
    user = await client.register()
    base = {"content_type": "user", "content_id": str(uuid.uuid4()), "reason": "spam"}
    cases = [({**base, "content_type": "album"}, "content_type"), ({**base, "content_id": "nope"}, "content_id"),
             ({**base, "reason": ""}, "reason"), ({**base, "reason": "   "}, "reason"), ({**base, "reason": "x" * 1001}, "reason"),
             ({**base, "content_id": user.id}, "content_id"), (base, "content_id"),
             ({**base, "content_type": "track"}, "content_id"), ({**base, "content_type": "comment"}, "content_id"),
             ({k: v for k, v in base.items() if k != "reason"}, "reason")]
    for body, field in cases:
        reply = await client.post("/reports", user=user, json=body)
        assert reply.status == 400, (body, reply.body)
        assert field in reply.body["details"], (body, reply.body)


async def test_resolve_bad_input(client: ApiClient) -> None:
    admin, reporter, target = await client.register(role="admin"), await client.register(), await client.register()
    report = await _report(client, reporter, "user", target.id)
    for body, field in (({"action": "nuke"}, "action"), ({}, "action"), ({"action": "warn", "user_id": "x"}, "user_id")):
        reply = await client.post(f"/admin/reports/{report['id']}/resolve", user=admin, json=body)
        assert reply.status == 400 and field in reply.body["details"], reply.body
    assert (await client.post(f"/admin/reports/{uuid.uuid4()}/resolve", user=admin, json={"action": "resolve"})).status == 404
    assert (await client.post("/admin/reports/zzz/resolve", user=admin, json={"action": "resolve"})).status == 404
    bad = await client.get("/admin/reports?status=open", user=admin)
    assert bad.status == 400 and "status" in bad.body["details"]
    assert (await client.get("/admin/reports?limit=1000", user=admin)).status == 400


async def test_nul_in_resolve_message_is_400(client: ApiClient) -> None:
    admin, reporter, target = await client.register(role="admin"), await client.register(), await client.register()
    report = (await client.post("/reports", user=reporter,
                                json={"content_type": "user", "content_id": target.id, "reason": "spam"})).data
    reply = await client.post(f"/admin/reports/{report['id']}/resolve", user=admin,
                              json={"action": "warn", "message": "m\x00"})
    assert reply.status == 400 and "message" in reply.body["details"], reply.body
    pending = (await client.get("/admin/reports?status=pending&limit=100", user=admin)).data["reports"]
    assert report["id"] in [r["id"] for r in pending]
