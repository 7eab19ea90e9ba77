"""ChatRoom against the real database: batching, gapless seq, idempotency, replay, presence."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from actors import ActorSystem
from actors.chat_room import ChatRoom, Join, Leave, NotJoined, Send
from protocols import frames
from tests.support import ApiClient
from veza import keys


class Sock:
    """A test socket: records what the room queues on it."""

    def __init__(self, user_id: uuid.UUID | None = None, username: str = "") -> None:
        self.user_id = user_id
        self.username = username
        self.closing = False
        self.frames: list[dict] = []

    def deliver(self, data: bytes, volatile: bool = False) -> None:
        self.frames.append(json.loads(data))

    def close(self, code: int, reason: str = "") -> None:
        self.closing = True

    def of(self, type_: str) -> list[dict]:
        return [f for f in self.frames if f["type"] == type_]


def another_node(system: ActorSystem) -> ActorSystem:
    """A second actor system whose rooms share this one's services (database, broker, hub)."""
    other = ActorSystem()
    other.provide(ChatRoom, system.dependencies(ChatRoom))
    return other


async def make_room(client: ApiClient, n_members: int = 1) -> tuple[uuid.UUID, list]:
    users = [await client.register() for _ in range(n_members)]
    reply = await client.post("/conversations", json={"type": "group", "name": "r",
                                                      "members": [u.id for u in users[1:]]}, user=users[0])
    return uuid.UUID(reply.data["id"]), users


async def db_seqs(client: ApiClient, room_id: uuid.UUID) -> list[int]:
    async with client.app[keys.db].connection() as conn:
        return [r["seq"] for r in await conn.fetch("SELECT seq FROM chat_messages WHERE room_id = $1 ORDER BY seq",
                                                   room_id)]


async def test_concurrent_sends_are_batched_gapless_and_acked_after_commit(client: ApiClient) -> None:
    room_id, users = await make_room(client, 4)
    ref = client.app[keys.actors].ref(ChatRoom, room_id)
    authors = [uuid.UUID(u.id) for u in users]

    async def send(i: int) -> frames.ChatMessage:
        message = await ref.ask(Send(authors[i % 4], f"u{i % 4}", f"m{i}", f"c{i}"))
        # Acknowledged means committed: the row is already visible to another connection.
        async with client.app[keys.db].connection() as conn:
            assert await conn.fetchval("SELECT content FROM chat_messages WHERE id = $1", message.id) == f"m{i}"
        return message

    results = await asyncio.gather(*(send(i) for i in range(300)))
    assert sorted(m.seq for m in results) == list(range(1, 301))
    assert await db_seqs(client, room_id) == list(range(1, 301))
    [room] = [r for r in client.app[keys.actors].live(ChatRoom) if r.key == room_id]
    assert room.flushes < 300  # drained batches, one statement each
    assert room.last_seq == 300


async def test_client_id_makes_resends_idempotent(client: ApiClient) -> None:
    room_id, users = await make_room(client)
    ref = client.app[keys.actors].ref(ChatRoom, room_id)
    author = uuid.UUID(users[0].id)
    # Same batch, twice the same client_id; then a resend in a later batch.
    first, twin = await asyncio.gather(ref.ask(Send(author, "a", "hello", "same")),
                                       ref.ask(Send(author, "a", "hello", "same")))
    again = await ref.ask(Send(author, "a", "hello (resent)", "same"))
    assert first.id == twin.id == again.id and again.content == "hello" and again.seq == 1
    other = await ref.ask(Send(author, "a", "next", "other"))
    assert other.seq == 2
    assert await db_seqs(client, room_id) == [1, 2]


async def test_socket_sends_need_a_join_and_ack_on_the_socket_before_the_broadcast(client: ApiClient) -> None:
    room_id, users = await make_room(client, 2)
    ref = client.app[keys.actors].ref(ChatRoom, room_id)
    a, b = Sock(uuid.UUID(users[0].id), "a"), Sock(uuid.UUID(users[1].id), "b")
    with pytest.raises(NotJoined):
        await ref.ask(Send(a.user_id, "a", "hi", "c1", conn=a, ref="r1"))
    await ref.ask(Join(a))
    await ref.ask(Join(b))
    await ref.ask(Send(a.user_id, "a", "hi", "c1", conn=a, ref="r1"))
    kinds = [f["type"] for f in a.frames]
    assert kinds[-2:] == ["ack", "message"] and a.frames[-2]["ref"] == "r1"
    assert b.of("message")[0]["message"]["content"] == "hi"


async def test_presence_counts_tabs(client: ApiClient) -> None:
    room_id, users = await make_room(client, 2)
    ref = client.app[keys.actors].ref(ChatRoom, room_id)
    ua, ub = uuid.UUID(users[0].id), uuid.UUID(users[1].id)
    watcher = Sock(ub, "b")
    await ref.ask(Join(watcher))
    tab1, tab2 = Sock(ua, "a"), Sock(ua, "a")
    await ref.ask(Join(tab1))
    await ref.ask(Join(tab2))
    assert [p["status"] for p in watcher.of("presence")] == ["online"]  # once, not per tab
    assert {p["id"] for p in tab2.of("joined")[0]["presence"]} == {str(ua), str(ub)}
    await ref.ask(Leave(tab1))
    assert [p["status"] for p in watcher.of("presence")] == ["online"]  # still one tab open
    await ref.ask(Leave(tab2))
    assert [p["status"] for p in watcher.of("presence")] == ["online", "offline"]


@pytest.mark.parametrize(("total", "since", "recovered", "count"), [
    (30, None, True, 30),
    (80, None, True, frames.JOIN_RECENT),
    (80, 70, True, 10),       # from the recent cache
    (300, 20, True, 280),     # beyond the cache: from PostgreSQL
    (600, 100, True, 500),    # exactly the replay limit
    (600, 50, False, frames.JOIN_RECENT),  # more than the replay limit missed: newest page
    (10, 10, True, 0),
    (10, 25, False, 10),      # a client ahead of the room: start over
])
async def test_join_replays_what_was_missed(client: ApiClient, total: int, since: int | None, recovered: bool,
                                            count: int) -> None:
    room_id, users = await make_room(client)
    author = uuid.UUID(users[0].id)
    ref = client.app[keys.actors].ref(ChatRoom, room_id)
    await asyncio.gather(*(ref.ask(Send(author, "a", f"m{i}", f"c{i}")) for i in range(total)))
    sock = Sock(author, "a")
    await ref.ask(Join(sock, since=since))
    [joined] = sock.of("joined")
    seqs = [m["seq"] for m in joined["messages"]]
    assert joined["recovered"] is recovered
    assert joined["seq"] == total
    # Always a contiguous run ending at the newest message, in order.
    assert seqs == list(range(total - count + 1, total + 1))


async def test_a_fresh_actor_reloads_from_postgres(client: ApiClient) -> None:
    room_id, users = await make_room(client)
    author = uuid.UUID(users[0].id)
    system = client.app[keys.actors]
    ref = system.ref(ChatRoom, room_id)
    for i in range(5):
        await ref.ask(Send(author, "a", f"m{i}", f"c{i}"))
    # A restarted node: a new actor system, same database.
    restarted = another_node(system)
    ref = restarted.ref(ChatRoom, room_id)
    sock = Sock(author, "a")
    await ref.ask(Join(sock, since=2))
    joined = sock.of("joined")[0]
    assert joined["seq"] == 5 and [m["seq"] for m in joined["messages"]] == [3, 4, 5]
    assert (await ref.ask(Send(author, "a", "after", "c-after"))).seq == 6
    await restarted.stop_all()


async def test_one_poisoned_send_fails_only_its_sender(client: ApiClient) -> None:
    room_id, users = await make_room(client)
    author = uuid.UUID(users[0].id)
    ref = client.app[keys.actors].ref(ChatRoom, room_id)
    # Text PostgreSQL refuses (the gateway validates this away; the actor must still cope).
    sends = [Send(author, "a", "ok-1", "k1"), Send(author, "a", "bad\x00", "k2"), Send(author, "a", "ok-2", "k3")]
    results = await asyncio.gather(*(ref.ask(s) for s in sends), return_exceptions=True)
    assert isinstance(results[1], Exception)
    assert [r.content for r in (results[0], results[2])] == ["ok-1", "ok-2"]
    assert await db_seqs(client, room_id) == [1, 2]


async def test_join_sees_writes_made_by_another_nodes_actor(client: ApiClient) -> None:
    room_id, users = await make_room(client)
    author = uuid.UUID(users[0].id)
    here = client.app[keys.actors].ref(ChatRoom, room_id)
    await here.ask(Send(author, "a", "m1", "c1"))
    elsewhere = another_node(client.app[keys.actors])  # the same room on a second node
    await elsewhere.ref(ChatRoom, room_id).ask(Send(author, "a", "m2", "c2"))
    await elsewhere.ref(ChatRoom, room_id).ask(Send(author, "a", "m3", "c3"))
    await elsewhere.stop_all()
    fresh, since = Sock(author, "a"), Sock(author, "a")
    await here.ask(Join(fresh))
    await here.ask(Join(since, since=1))
    assert fresh.of("joined")[0]["seq"] == 3
    assert [m["content"] for m in fresh.of("joined")[0]["messages"]] == ["m1", "m2", "m3"]
    assert [m["seq"] for m in since.of("joined")[0]["messages"]] == [2, 3]
    assert (await here.ask(Send(author, "a", "m4", "c4"))).seq == 4


async def test_a_room_that_keeps_failing_restarts_and_tells_its_sockets(client: ApiClient) -> None:
    room_id, users = await make_room(client)
    author = uuid.UUID(users[0].id)
    ref = client.app[keys.actors].ref(ChatRoom, room_id)
    sock = Sock(author, "a")
    await ref.ask(Join(sock))
    for i in range(ChatRoom.max_failures):  # text PostgreSQL refuses: a failure of the room, not the caller
        with pytest.raises(Exception):
            await ref.ask(Send(author, "a", "bad\x00", f"bad{i}"))
    for _ in range(100):  # the restart runs right after the last failed asker was answered
        if sock.of("left"):
            break
        await asyncio.sleep(0.01)
    assert sock.of("left") == [{"type": "left", "room": str(room_id), "reason": "reset"}]
    again = Sock(author, "a")
    await ref.ask(Join(again, since=0))
    assert again.of("joined")[0]["recovered"] is True
    assert (await ref.ask(Send(author, "a", "fine", "ok"))).seq == 1


async def test_rest_changes_reach_the_rooms_actor_on_every_node(client: ApiClient) -> None:
    from actors.chat_room import Kick, Rename, announce

    room_id, users = await make_room(client, 2)
    ua, ub = uuid.UUID(users[0].id), uuid.UUID(users[1].id)
    other_node = another_node(client.app[keys.actors])  # same broker, as two nodes would share Redis
    here, there = Sock(ua, "a"), Sock(ub, "b")
    await client.app[keys.actors].ref(ChatRoom, room_id).ask(Join(here))
    await other_node.ref(ChatRoom, room_id).ask(Join(there))
    broker = client.app[keys.broker]
    await announce(broker, room_id, Rename("renamed"))
    await announce(broker, room_id, Kick(ub))
    for _ in range(100):
        if there.of("left"):
            break
        await asyncio.sleep(0.01)
    assert there.of("left") == [{"type": "left", "room": str(room_id), "reason": "removed"}]
    # Each node told its own sockets once (both socks share one hub in this test, hence two each).
    assert [e["name"] for e in here.of("room_updated")] == ["renamed", "renamed"]
    with pytest.raises(NotJoined):
        await other_node.ref(ChatRoom, room_id).ask(Send(ub, "b", "still here?", "x", conn=there))
    await other_node.stop_all()
