"""Conversations REST: create/list/update/delete, history cursor, REST sends, members, auth."""

from __future__ import annotations

import uuid

import pytest

from tests.support import ApiClient
from tests.veza.ws.chat_support import joined, room, say, until


async def test_direct_conversation_is_found_or_created_once(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    first = await client.post("/conversations", json={"type": "direct", "user_id": bob.id}, user=ann)
    assert first.status == 201 and first.data["type"] == "direct"
    assert {m["id"] for m in first.data["members"]} == {ann.id, bob.id}
    again = await client.post("/conversations", json={"type": "direct", "members": [bob.id]}, user=ann)
    reverse = await client.post("/conversations", json={"type": "direct", "user_id": ann.id}, user=bob)
    assert again.status == reverse.status == 200
    assert first.data["id"] == again.data["id"] == reverse.data["id"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"type": "direct"}, 400, "user_id"),
    ({"type": "direct", "members": []}, 400, "user_id"),
    ({"type": "group"}, 400, "name"),
    ({"type": "public", "name": "   "}, 400, "name"),
    ({"type": "channel", "name": "x"}, 400, "type"),
    ({"type": "group", "name": "x" * 101}, 400, "name"),
    ({"type": "group", "name": "ok", "members": ["not-a-uuid"]}, 400, "members[0]"),
    ({"type": "group", "name": "ok", "bogus": 1}, 400, None),
    ({"type": "group", "name": "nul\u0000"}, 400, "name"),
    ({"type": "direct", "user_id": str(uuid.uuid4())}, 404, None),
    ({"type": "group", "name": "ok", "members": [str(uuid.uuid4())]}, 404, None),
])
async def test_create_rejects_bad_input(client: ApiClient, body: dict, status: int, field: str | None) -> None:
    ann = await client.register()
    reply = await client.post("/conversations", json=body, user=ann)
    assert reply.status == status, reply.body
    assert reply.body["success"] is False
    if field:
        assert field in reply.body["details"]


async def test_direct_with_yourself_is_refused(client: ApiClient) -> None:
    ann = await client.register()
    assert (await client.post("/conversations", json={"type": "direct", "user_id": ann.id}, user=ann)).status == 400


async def test_list_is_mine_newest_activity_first_with_last_message_and_unread(client: ApiClient) -> None:
    ann, bob, eve = await client.register(), await client.register(), await client.register()
    older = await room(client, ann, members=[bob], name="older")
    newer = await room(client, ann, members=[bob], name="newer")
    await room(client, eve, name="not mine")
    await client.post(f"/conversations/{newer}/messages", json={"content": "n1"}, user=ann)
    await client.post(f"/conversations/{older}/messages", json={"content": "o1"}, user=ann)
    await client.post(f"/conversations/{older}/messages", json={"content": "o2"}, user=ann)
    listed = (await client.get("/conversations", user=bob)).data
    assert [c["id"] for c in listed["conversations"]] == [older, newer] and listed["total"] == 2
    top = listed["conversations"][0]
    assert top["last_message"]["content"] == "o2" and top["unread_count"] == 2 and top["member_count"] == 2
    mine = (await client.get("/conversations", user=ann)).data["conversations"][0]
    assert mine["unread_count"] == 0 and mine["role"] == "owner"  # your own messages are not unread
    paged = (await client.get("/conversations?limit=1&offset=1", user=bob)).data
    assert [c["id"] for c in paged["conversations"]] == [newer] and paged["total"] == 2
    assert (await client.get("/conversations?limit=0", user=bob)).status == 400


async def test_direct_lists_the_peer(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    await room(client, ann, "direct", members=[bob])
    [conv] = (await client.get("/conversations", user=bob)).data["conversations"]
    assert conv["peer"] == {"id": ann.id, "username": ann.username}


async def test_history_pages_newest_first_with_an_opaque_cursor(client: ApiClient) -> None:
    ann = await client.register()
    rid = await room(client, ann)
    for i in range(7):
        await client.post(f"/conversations/{rid}/messages", json={"content": f"m{i}", "client_id": f"c{i}"}, user=ann)
    seen, cursor = [], None
    while True:
        path = f"/conversations/{rid}/history?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(path, user=ann)).data
        seen += [m["seq"] for m in page["messages"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    bad = await client.get(f"/conversations/{rid}/history?cursor=bm9wZQ", user=ann)
    assert bad.status == 400 and "cursor" in bad.body["details"]
    assert (await client.get(f"/conversations/{rid}/history?limit=101", user=ann)).status == 400


async def test_rest_send_is_idempotent_and_validated(client: ApiClient) -> None:
    ann = await client.register()
    rid = await room(client, ann)
    first = await client.post(f"/conversations/{rid}/messages", json={"content": "hi", "client_id": "k"}, user=ann)
    again = await client.post(f"/conversations/{rid}/messages", json={"content": "hi", "client_id": "k"}, user=ann)
    assert first.data == again.data
    for body in ({"content": ""}, {"content": "  "}, {"content": "x" * 4001}, {}, {"content": "a", "client_id": ""},
                 {"content": "a\u0000"}):
        reply = await client.post(f"/conversations/{rid}/messages", json=body, user=ann)
        assert reply.status == 400, body


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/conversations", None),
    ("POST", "/conversations", {"type": "group", "name": "x"}),
    ("GET", "/conversations/{id}", None),
    ("PUT", "/conversations/{id}", {"name": "y"}),
    ("DELETE", "/conversations/{id}", None),
    ("GET", "/conversations/{id}/history", None),
    ("POST", "/conversations/{id}/messages", {"content": "x"}),
    ("POST", "/conversations/{id}/members", {"user_id": str(uuid.uuid4())}),
    ("DELETE", "/conversations/{id}/members/{user}", None),
])
async def test_every_route_needs_a_token_and_hides_private_rooms(client: ApiClient, method: str, path: str,
                                                                 body: dict | None) -> None:
    ann, bob, eve = await client.register(), await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    url = path.format(id=rid, user=bob.id)
    assert (await client.call(method, url, json=body)).status == 401
    if "{id}" in path:
        assert (await client.call(method, url, json=body, user=eve)).status == 404
        assert (await client.call(method, path.format(id="nope", user=bob.id), json=body, user=ann)).status == 404


async def test_rename_by_owner_only_and_live_members_hear_it(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    bob_ws = await client.ws(bob)
    await joined(bob_ws, rid)
    assert (await client.put(f"/conversations/{rid}", json={"name": "no"}, user=bob)).status == 403
    assert (await client.put(f"/conversations/{rid}", json={"name": ""}, user=ann)).status == 400
    reply = await client.put(f"/conversations/{rid}", json={"name": "Renamed"}, user=ann)
    assert reply.status == 200 and reply.data["name"] == "Renamed"
    assert (await until(bob_ws, "room_updated"))["name"] == "Renamed"
    direct = await room(client, ann, "direct", members=[bob])
    assert (await client.put(f"/conversations/{direct}", json={"name": "x"}, user=ann)).status == 400
    await bob_ws.close()


async def test_delete_by_owner_or_admin_closes_the_live_room(client: ApiClient) -> None:
    ann, bob, admin = await client.register(), await client.register(), await client.register(role="admin")
    rid = await room(client, ann, members=[bob])
    bob_ws = await client.ws(bob)
    await joined(bob_ws, rid)
    await say(bob_ws, rid, "hi", "b1")
    assert (await client.delete(f"/conversations/{rid}", user=bob)).status == 403
    assert (await client.delete(f"/conversations/{rid}", user=ann)).status == 200
    assert (await until(bob_ws, "room_closed"))["room"] == rid
    await bob_ws.send_json({"type": "message", "room": rid, "content": "x", "client_id": "b2", "ref": "late"})
    assert (await until(bob_ws, "error", ref="late"))["code"] in ("not_found", "forbidden")
    assert (await client.get(f"/conversations/{rid}/history", user=ann)).status == 404
    other = await room(client, ann, members=[bob])
    assert (await client.delete(f"/conversations/{other}", user=admin)).status == 200
    await bob_ws.close()


async def test_members_added_and_removed(client: ApiClient) -> None:
    ann, bob, cat = await client.register(), await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    assert (await client.post(f"/conversations/{rid}/members", json={"user_id": cat.id}, user=bob)).status == 403
    added = await client.post(f"/conversations/{rid}/members", json={"user_id": cat.id}, user=ann)
    assert added.status == 201 and added.data == {"id": cat.id, "username": cat.username, "role": "member"}
    cat_ws = await client.ws(cat)
    await joined(cat_ws, rid)
    assert (await client.delete(f"/conversations/{rid}/members/{cat.id}", user=bob)).status == 403
    assert (await client.delete(f"/conversations/{rid}/members/{cat.id}", user=ann)).status == 200
    assert (await until(cat_ws, "left"))["reason"] == "removed"
    await cat_ws.send_json({"type": "message", "room": rid, "content": "x", "client_id": "c", "ref": "gone"})
    assert (await until(cat_ws, "error", ref="gone"))["code"] == "forbidden"
    assert (await client.get(f"/conversations/{rid}/history", user=cat)).status == 404
    assert (await client.delete(f"/conversations/{rid}/members/{ann.id}", user=ann)).status == 409
    assert (await client.delete(f"/conversations/{rid}/members/{bob.id}", user=bob)).status == 200  # leaving
    assert (await client.delete(f"/conversations/{rid}/members/{cat.id}", user=ann)).status == 404
    public = await room(client, ann, "public", name="Open")
    assert (await client.post(f"/conversations/{public}/members", json={"user_id": cat.id}, user=cat)).status == 201
    direct = await room(client, ann, "direct", members=[bob])
    assert (await client.post(f"/conversations/{direct}/members", json={"user_id": cat.id}, user=ann)).status == 400
    await cat_ws.close()


async def test_re_adding_a_member_promotes_on_request_and_never_demotes(client: ApiClient) -> None:
    ann, bob, cat = await client.register(), await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    again = await client.post(f"/conversations/{rid}/members", json={"user_id": bob.id}, user=ann)
    assert again.status == 200 and again.data["role"] == "member"
    promoted = await client.post(f"/conversations/{rid}/members", json={"user_id": bob.id, "role": "admin"}, user=ann)
    assert promoted.status == 200 and promoted.data["role"] == "admin"
    # Now a moderator: bob may add people; re-adding him as a plain member keeps him admin.
    assert (await client.post(f"/conversations/{rid}/members", json={"user_id": cat.id}, user=bob)).status == 201
    kept = await client.post(f"/conversations/{rid}/members", json={"user_id": bob.id}, user=ann)
    assert kept.status == 200 and kept.data["role"] == "admin"
    owner = await client.post(f"/conversations/{rid}/members", json={"user_id": ann.id, "role": "admin"}, user=ann)
    assert owner.status == 200 and owner.data["role"] == "owner"
    assert (await client.post(f"/conversations/{rid}/members", json={"user_id": cat.id, "role": "admin"},
                              user=bob)).status == 403  # only the owner makes admins


async def test_public_rooms_are_readable_by_any_signed_in_user(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    public = await room(client, ann, "public", name="Lobby")
    await client.post(f"/conversations/{public}/messages", json={"content": "hello"}, user=ann)
    page = await client.get(f"/conversations/{public}/history", user=bob)
    assert page.status == 200 and [m["content"] for m in page.data["messages"]] == ["hello"]
    posted = await client.post(f"/conversations/{public}/messages", json={"content": "me too"}, user=bob)
    assert posted.status == 201
    assert public in [c["id"] for c in (await client.get("/conversations", user=bob)).data["conversations"]]


async def test_public_directory_lists_public_rooms_for_anyone(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    lobby = await room(client, ann, "public", name="Lobby")
    await room(client, ann, members=[bob], name="Secret")
    await client.post(f"/conversations/{lobby}/messages", json={"content": "hi"}, user=ann)
    anon = (await client.get("/conversations/public?limit=100")).data
    ids = [c["id"] for c in anon["conversations"]]
    assert lobby in ids and all(c["type"] == "public" for c in anon["conversations"])
    mine = {c["id"]: c for c in (await client.get("/conversations/public?limit=100", user=ann)).data["conversations"]}
    theirs = {c["id"]: c for c in (await client.get("/conversations/public?limit=100", user=bob)).data["conversations"]}
    assert mine[lobby]["role"] == "owner" and theirs[lobby]["role"] is None
    assert (await client.get("/conversations/public?limit=500")).status == 400
