"""Chat over real sockets: presence with tabs, sends, edits, reactions, reads, authorization."""

from __future__ import annotations

import asyncio
import uuid

from tests.support import ApiClient
from veza import keys
from tests.veza.ws.chat_support import joined, quiet, recv, room, say, until


async def test_join_leave_and_presence_across_users_and_tabs(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    ann_ws = await client.ws(ann)
    await joined(ann_ws, rid)
    bob1, bob2 = await client.ws(bob), await client.ws(bob)
    first = await joined(bob1, rid)
    assert {p["id"] for p in first["presence"]} == {ann.id, bob.id}
    online = await until(ann_ws, "presence")
    assert online["user"] == {"id": bob.id, "username": bob.username} and online["status"] == "online"
    await joined(bob2, rid)  # a second tab: nobody hears of it
    await bob1.send_json({"type": "leave", "room": rid, "ref": "bye"})
    assert await until(bob1, "left", ref="bye") == {"type": "left", "room": rid, "ref": "bye"}
    assert [f for f in await quiet(ann_ws) if f["type"] == "presence"] == []
    await bob2.close()  # the last tab goes: offline
    offline = await until(ann_ws, "presence")
    assert offline["status"] == "offline" and offline["user"]["id"] == bob.id
    await ann_ws.close()
    await bob1.close()


async def test_every_tab_gets_every_message_and_the_sender_an_ack(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    ann_ws, bob1, bob2 = await client.ws(ann), await client.ws(bob), await client.ws(bob)
    for ws in (ann_ws, bob1, bob2):
        await joined(ws, rid)
    ack = await say(ann_ws, rid, "hello", "c-1", ref="r-1")
    message = ack["message"]
    assert ack["ref"] == "r-1" and message["seq"] == 1 and message["client_id"] == "c-1"
    assert message["author"] == {"id": ann.id, "username": ann.username}
    for ws in (bob1, bob2, ann_ws):
        event = await until(ws, "message")
        assert event["room"] == rid and event["message"] == message
    # A resend with the same client_id: the same message back, nobody gets a second copy.
    again = await say(ann_ws, rid, "hello", "c-1", ref="r-2")
    assert again["message"] == message and again["ref"] == "r-2"
    assert [f for f in await quiet(bob1) if f["type"] == "message"] == []
    for ws in (ann_ws, bob1, bob2):
        await ws.close()


async def test_seq_is_gapless_under_concurrent_senders(client: ApiClient) -> None:
    users = [await client.register() for _ in range(4)]
    rid = await room(client, users[0], members=users[1:])
    sockets = [await client.ws(u) for u in users]
    for ws in sockets:
        await joined(ws, rid)

    async def burst(ws, n: int) -> list[int]:  # type: ignore[no-untyped-def]
        for i in range(20):
            await ws.send_json({"type": "message", "room": rid, "content": f"{n}-{i}", "client_id": f"{n}-{i}",
                                "ref": f"{n}-{i}"})
        return [(await until(ws, "ack", ref=f"{n}-{i}", timeout=10))["message"]["seq"] for i in range(20)]

    # Stay under the per-socket burst (30) so no frame is rate limited.
    acks = await asyncio.gather(*(burst(ws, n) for n, ws in enumerate(sockets)))
    assert sorted(s for seqs in acks for s in seqs) == list(range(1, 81))
    assert all(seqs == sorted(seqs) for seqs in acks)
    history = await client.get(f"/conversations/{rid}/history?limit=100", user=users[1])
    assert [m["seq"] for m in history.data["messages"]] == list(range(80, 0, -1))
    for ws in sockets:
        await ws.close()


async def test_one_socket_sends_are_pipelined_and_acked_in_order(client: ApiClient) -> None:
    """The gateway reads a socket's next frame while the previous message commits: the
    room gets several of one socket's messages in one batch (fewer flushes than messages),
    and the acks still come in the order of the frames, with consecutive seqs."""
    from actors.chat_room import ChatRoom

    ann = await client.register()
    rid = await room(client, ann)
    ws = await client.ws(ann)
    await joined(ws, rid)
    for i in range(25):  # under the per-socket burst (30)
        await ws.send_json({"type": "message", "room": rid, "content": f"m{i}", "client_id": f"c{i}", "ref": i})
    acks = [await until(ws, "ack", timeout=10) for _ in range(25)]
    assert [a["ref"] for a in acks] == list(range(25))
    assert [a["message"]["seq"] for a in acks] == list(range(1, 26))
    (actor,) = [r for r in client.app[keys.actors].live(ChatRoom) if str(r.room_id) == rid]
    assert actor.flushes < 25
    await ws.close()


async def test_reconnect_with_since_recovers_everything_missed(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    ann_ws, bob_ws = await client.ws(ann), await client.ws(bob)
    await joined(ann_ws, rid)
    await joined(bob_ws, rid)
    await say(ann_ws, rid, "one", "1")
    last_seen = (await until(bob_ws, "message"))["message"]["seq"]
    await bob_ws.close()  # bob drops; ann keeps talking
    for i in range(2, 30):
        await say(ann_ws, rid, f"m{i}", str(i))
    bob_ws = await client.ws(bob)
    back = await joined(bob_ws, rid, since=last_seen)
    assert back["recovered"] is True and back["seq"] == 29
    assert [m["seq"] for m in back["messages"]] == list(range(2, 30))
    await ann_ws.close()
    await bob_ws.close()


async def test_edit_delete_react_and_read_reach_the_room(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    ann_ws, bob_ws = await client.ws(ann), await client.ws(bob)
    await joined(ann_ws, rid)
    await joined(bob_ws, rid)
    mine = (await say(bob_ws, rid, "typo", "b1"))["message"]
    await until(ann_ws, "message")

    await bob_ws.send_json({"type": "edit", "room": rid, "message_id": mine["id"], "content": "fixed", "ref": "e"})
    assert (await until(bob_ws, "ok", ref="e"))["ref"] == "e"
    edited = await until(ann_ws, "message_edited")
    assert edited["message"]["content"] == "fixed" and edited["message"]["edited_at"]

    await ann_ws.send_json({"type": "edit", "room": rid, "message_id": mine["id"], "content": "hijack", "ref": "x"})
    assert (await until(ann_ws, "error", ref="x"))["code"] == "forbidden"

    for emoji, who in (("🔥", ann_ws), ("🔥", bob_ws)):
        await who.send_json({"type": "react", "room": rid, "message_id": mine["id"], "emoji": emoji})
    counts = [(await until(ann_ws, "reaction"))["count"] for _ in range(2)]
    assert counts == [1, 2]
    await ann_ws.send_json({"type": "react", "room": rid, "message_id": mine["id"], "emoji": "🔥", "ref": "dup"})
    await until(ann_ws, "ok", ref="dup")  # one per user per emoji: no event
    await ann_ws.send_json({"type": "unreact", "room": rid, "message_id": mine["id"], "emoji": "🔥"})
    gone = await until(bob_ws, "reaction", added=False)
    assert gone["count"] == 1 and gone["user"] == ann.id

    before = (await client.get("/conversations", user=ann)).data["conversations"][0]
    assert before["unread_count"] == 1 and before["last_read_seq"] == 0
    await ann_ws.send_json({"type": "read", "room": rid, "seq": mine["seq"]})
    read = await until(bob_ws, "read")
    assert read == {"type": "read", "room": rid, "user": ann.id, "seq": mine["seq"]}
    after = (await client.get("/conversations", user=ann)).data["conversations"][0]
    assert after["unread_count"] == 0 and after["last_read_seq"] == mine["seq"]

    # The room owner may delete someone else's message; everyone hears it.
    await ann_ws.send_json({"type": "delete", "room": rid, "message_id": mine["id"], "ref": "d"})
    deleted = await until(bob_ws, "message_deleted")
    assert deleted["message_id"] == mine["id"] and deleted["seq"] == mine["seq"]
    history = (await client.get(f"/conversations/{rid}/history", user=bob)).data["messages"]
    assert history[0]["deleted"] is True and history[0]["content"] == ""
    await ann_ws.close()
    await bob_ws.close()


async def test_members_cannot_delete_others_messages(client: ApiClient) -> None:
    ann, bob, cat = await client.register(), await client.register(), await client.register()
    rid = await room(client, ann, members=[bob, cat])
    bob_ws, cat_ws = await client.ws(bob), await client.ws(cat)
    await joined(bob_ws, rid)
    await joined(cat_ws, rid)
    mine = (await say(bob_ws, rid, "mine", "b1"))["message"]
    await cat_ws.send_json({"type": "delete", "room": rid, "message_id": mine["id"], "ref": "d"})
    assert (await until(cat_ws, "error", ref="d"))["code"] == "forbidden"
    await cat_ws.send_json({"type": "delete", "room": rid, "message_id": str(uuid.uuid4()), "ref": "n"})
    assert (await until(cat_ws, "error", ref="n"))["code"] == "not_found"
    await bob_ws.close()
    await cat_ws.close()


async def test_typing_is_volatile_and_goes_to_the_others(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    ann_ws, bob_ws = await client.ws(ann), await client.ws(bob)
    await joined(ann_ws, rid)
    await joined(bob_ws, rid)
    await ann_ws.send_json({"type": "typing", "room": rid})
    typing = await until(bob_ws, "typing")
    assert typing == {"type": "typing", "room": rid, "user": {"id": ann.id, "username": ann.username}}
    assert [f for f in await quiet(ann_ws) if f["type"] == "typing"] == []
    await ann_ws.close()
    await bob_ws.close()


async def test_history_frame_pages_backwards(client: ApiClient) -> None:
    ann = await client.register()
    rid = await room(client, ann)
    ws = await client.ws(ann)
    await joined(ws, rid)
    for i in range(12):
        await say(ws, rid, f"m{i}", f"c{i}")
    await ws.send_json({"type": "history", "room": rid, "before": 6, "limit": 3, "ref": "h"})
    page = await until(ws, "history", ref="h")
    assert [m["seq"] for m in page["messages"]] == [3, 4, 5] and page["has_more"] is True
    await ws.send_json({"type": "history", "room": rid, "before": 3, "limit": 5, "ref": "h2"})
    last = await until(ws, "history", ref="h2")
    assert [m["seq"] for m in last["messages"]] == [1, 2] and last["has_more"] is False
    await ws.close()


async def test_non_members_cannot_join_read_or_post(client: ApiClient) -> None:
    ann, bob, eve = await client.register(), await client.register(), await client.register()
    group = await room(client, ann, members=[bob])
    direct = await room(client, ann, "direct", members=[bob])
    eve_ws = await client.ws(eve)
    for rid in (group, direct, str(uuid.uuid4())):
        for frame in ({"type": "join", "room": rid}, {"type": "history", "room": rid}):
            await eve_ws.send_json({**frame, "ref": "x"})
            error = await until(eve_ws, "error", ref="x")
            assert error["code"] == "not_found" and error["error"] == "Conversation not found"
        await eve_ws.send_json({"type": "message", "room": rid, "content": "hi", "client_id": "e", "ref": "m"})
        assert (await until(eve_ws, "error", ref="m"))["code"] in ("forbidden", "not_found")
    assert (await client.post(f"/conversations/{group}/messages", json={"content": "hi"}, user=eve)).status == 404
    await eve_ws.close()


async def test_anonymous_reads_public_rooms_only(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    public = await room(client, ann, "public", name="Lobby")
    group = await room(client, ann, members=[bob])
    anon = await client.ws()
    state = await joined(anon, public)
    assert state["presence"] == []
    ann_ws = await client.ws(ann)
    await joined(ann_ws, public)
    await say(ann_ws, public, "welcome", "w")
    assert (await until(anon, "message"))["message"]["content"] == "welcome"
    await anon.send_json({"type": "message", "room": public, "content": "hi", "client_id": "a", "ref": "p"})
    assert (await until(anon, "error", ref="p"))["code"] == "unauthorized"
    await anon.send_json({"type": "typing", "room": public, "ref": "t"})
    assert (await until(anon, "error", ref="t"))["code"] == "unauthorized"
    await anon.send_json({"type": "join", "room": group, "ref": "g"})
    assert (await until(anon, "error", ref="g"))["code"] == "not_found"
    await anon.send_json({"type": "history", "room": public, "ref": "h"})
    assert [m["content"] for m in (await until(anon, "history", ref="h"))["messages"]] == ["welcome"]
    await anon.close()
    await ann_ws.close()


async def test_signed_in_user_joins_a_public_room_and_it_is_listed(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    public = await room(client, ann, "public", name="Open")
    bob_ws = await client.ws(bob)
    await joined(bob_ws, public)
    await say(bob_ws, public, "hi all", "b")
    listed = (await client.get("/conversations", user=bob)).data["conversations"]
    assert [c["id"] for c in listed] == [public] and listed[0]["role"] == "member"
    await bob_ws.close()


async def test_rest_send_reaches_sockets_and_socket_errors_keep_it_open(client: ApiClient) -> None:
    ann, bob = await client.register(), await client.register()
    rid = await room(client, ann, members=[bob])
    bob_ws = await client.ws(bob)
    await joined(bob_ws, rid)
    await bob_ws.send_json({"type": "message", "room": rid, "content": "   ", "client_id": "c", "ref": "blank"})
    assert (await until(bob_ws, "error", ref="blank"))["code"] == "invalid"
    reply = await client.post(f"/conversations/{rid}/messages", json={"content": "from REST", "client_id": "r1"},
                              user=ann)
    assert reply.status == 201 and reply.data["seq"] == 1
    event = await until(bob_ws, "message")
    assert event["message"] == reply.data
    await bob_ws.send_json({"type": "ping", "ref": "alive"})
    assert (await until(bob_ws, "pong"))["ref"] == "alive"
    await bob_ws.close()
