"""The node's group commit for chat rooms (veza.room_writer): many rooms per statement and
commit, acks only after that commit, one room's failure only its own, gapless sequences
when two nodes write the same rooms."""

from __future__ import annotations

import asyncio
import uuid

from actors import ActorSystem
from actors.chat_room import ChatRoom, RoomServices, Send
from tests.support import ApiClient
from tests.veza.lock_waits import someone_waits
from veza import keys
from veza.room_writer import RoomWriter
from veza.rooms import RoomStoreAdapter
from veza.store import messages


async def make_rooms(client: ApiClient, count: int) -> tuple[list[uuid.UUID], uuid.UUID]:
    owner = await client.register()
    rooms = []
    for i in range(count):
        reply = await client.post("/conversations", json={"type": "public", "name": f"r{i}"}, user=owner)
        rooms.append(uuid.UUID(reply.data["id"]))
    return rooms, uuid.UUID(owner.id)


async def seqs(client: ApiClient, room_id: uuid.UUID) -> list[int]:
    async with client.app[keys.db].connection() as conn:
        return [r["seq"] for r in await conn.fetch("SELECT seq FROM chat_messages WHERE room_id = $1 ORDER BY seq",
                                                   room_id)]


def system_with(client: ApiClient, writer: RoomWriter) -> ActorSystem:
    app = client.app
    system = ActorSystem()
    system.provide(ChatRoom, RoomServices(RoomStoreAdapter(app[keys.db], writer), app[keys.hub], app[keys.broker]))
    return system


async def test_many_rooms_share_statements_and_every_ack_is_committed(client: ApiClient) -> None:
    rooms, author = await make_rooms(client, 12)
    writer = RoomWriter(client.app[keys.db])
    system = system_with(client, writer)
    db = client.app[keys.db]

    async def send(room_id: uuid.UUID, i: int) -> None:
        message = await system.ref(ChatRoom, room_id).ask(Send(author, "a", f"m{i}", f"c{i}"))
        async with db.connection() as conn:  # acknowledged means committed: visible elsewhere now
            assert await conn.fetchval("SELECT content FROM chat_messages WHERE id = $1", message.id) == f"m{i}"

    try:
        await asyncio.gather(*(send(room_id, i) for i in range(25) for room_id in rooms))
        flushes = sum(room.flushes for room in system.live(ChatRoom))
    finally:
        await system.stop_all()
    for room_id in rooms:
        assert await seqs(client, room_id) == list(range(1, 26))
    assert writer.statements < flushes  # rooms' batches shared statements (and commits)


async def test_a_failed_commit_acks_nobody_and_fails_only_its_room(client: ApiClient) -> None:
    """A deferred check fails at COMMIT (after every statement succeeded): the senders of
    that group must not be acked as if it had been stored; then each room is written on its
    own, and in the poisoned room each send on its own, so only the poisoned send fails."""
    rooms, author = await make_rooms(client, 3)
    db = client.app[keys.db]
    marker = f"fail-at-commit-{uuid.uuid4().hex[:8]}"
    name = f"t_{uuid.uuid4().hex[:8]}"
    async with db.connection() as conn:
        await conn.execute(f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.content = '{marker}' THEN RAISE EXCEPTION 'refused at commit'; END IF; RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON chat_messages DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION {name}();""")
    writer = RoomWriter(db, max_inflight=1)
    system = system_with(client, writer)
    try:
        hold = asyncio.ensure_future(writer.write(rooms[0], [(author, "first", "h0")]))  # the next group gathers
        sends = [(rooms[0], "a0"), (rooms[1], marker), (rooms[1], "b1"), (rooms[2], "c0")]
        results = await asyncio.gather(*(system.ref(ChatRoom, r).ask(Send(author, "a", text, f"k{i}"))
                                         for i, (r, text) in enumerate(sends)), return_exceptions=True)
        await hold
    finally:
        await system.stop_all()
        async with db.connection() as conn:
            await conn.execute(f"DROP TRIGGER {name} ON chat_messages; DROP FUNCTION {name}()")
    assert isinstance(results[1], Exception)
    assert [r.content for i, r in enumerate(results) if i != 1] == ["a0", "b1", "c0"]
    async with db.connection() as conn:
        stored = {r["content"] for r in await conn.fetch("SELECT content FROM chat_messages WHERE room_id = ANY($1)",
                                                          rooms)}
    assert stored == {"first", "a0", "b1", "c0"}
    assert [await seqs(client, r) for r in rooms] == [[1, 2], [1], [1]]


async def test_a_missing_room_in_a_group_is_not_found_alone(client: ApiClient) -> None:
    rooms, author = await make_rooms(client, 2)
    writer = RoomWriter(client.app[keys.db], max_inflight=1)
    busy = asyncio.ensure_future(writer.write(rooms[0], [(author, "x", None)]))
    gone = uuid.uuid4()
    grouped = await asyncio.gather(writer.write(rooms[1], [(author, "y", None), (author, "z", None)]),
                                   writer.write(gone, [(author, "lost", None)]))
    await busy
    assert writer.statements == 2  # the two writes after the first shared one statement
    assert grouped[1] is None
    assert [(fresh, row["seq"], row["content"]) for fresh, row in grouped[0]] == [(True, 1, "y"), (True, 2, "z")]


async def test_resends_keep_their_message_and_take_no_sequence(client: ApiClient) -> None:
    (room_id,), author = await make_rooms(client, 1)
    async with client.app[keys.db].connection() as conn:
        first = await messages.insert_batch(conn, room_id, [(author, "one", "k1"), (author, "two", None)])
        again = await messages.insert_batch(conn, room_id, [(author, "three", "k3"), (author, "one again", "k1"),
                                                            (author, "three again", "k3")])
    assert [(f, r["seq"]) for f, r in first] == [(True, 1), (True, 2)]
    assert [(f, r["seq"], r["content"]) for f, r in again] == [(True, 3, "three"), (False, 1, "one"),
                                                               (False, 3, "three")]
    assert again[1][1]["id"] == first[0][1]["id"] and again[2][1]["id"] == again[0][1]["id"]
    assert again[0][1]["author_name"] == first[0][1]["author_name"] != "deleted user"
    assert await seqs(client, room_id) == [1, 2, 3]


async def test_two_nodes_writing_the_same_rooms_stay_gapless(client: ApiClient) -> None:
    """Each node's writer locks a group's rooms in one order: overlapping groups from two
    nodes wait for each other (no deadlock), and every room's sequence has no gap."""
    rooms, author = await make_rooms(client, 8)
    nodes = [RoomWriter(client.app[keys.db]), RoomWriter(client.app[keys.db])]

    async def node(k: int) -> None:
        order = rooms if k == 0 else rooms[::-1]
        for turn in range(10):
            await asyncio.gather(*(nodes[k].write(room_id, [(author, f"n{k}t{turn}", None)] * 3) for room_id in order))

    await asyncio.gather(node(0), node(1))
    for room_id in rooms:
        assert await seqs(client, room_id) == list(range(1, 61))


async def test_a_resend_committed_by_another_node_while_waiting_for_the_room_is_found(client: ApiClient) -> None:
    """The group's statement reads its snapshot before it gets the room's lock: a message
    another node's writer commits meanwhile is not in that snapshot. A resend of it breaks
    the unique key instead of being stored twice, and the statement run again finds it."""
    (room_id,), author = await make_rooms(client, 1)
    db = client.app[keys.db]
    writer = RoomWriter(db)
    async with db.connection() as other_node, db.connection() as watcher:
        async with other_node.transaction():
            ((_, first),) = (await messages.insert_rooms(other_node, [(room_id, [(author, "once", "k1")])]))[0]
            resend = asyncio.ensure_future(writer.write(room_id, [(author, "once", "k1"), (author, "next", "k2")]))
            await someone_waits(watcher, resend)  # the writer's statement, for the room's lock
    rows = await resend
    assert writer.statements == 1  # run again inside the same group, not room by room
    assert [(fresh, row["id"] == first["id"], row["seq"]) for fresh, row in rows] == [(False, True, 1), (True, False, 2)]
    assert await seqs(client, room_id) == [1, 2]


async def test_the_writer_finds_resends_although_it_first_writes_without_looking(client: ApiClient) -> None:
    """The writer's first try skips the resend probe; the resend breaks the unique key,
    nothing of that try is kept, and the second try answers the stored message."""
    (room_id,), author = await make_rooms(client, 1)
    writer = RoomWriter(client.app[keys.db])
    ((_, first),) = await writer.write(room_id, [(author, "once", "k1")])
    rows = await writer.write(room_id, [(author, "next", "k2"), (author, "once", "k1"), (author, "last", None)])
    assert [(fresh, row["seq"], row["content"]) for fresh, row in rows] == [(True, 2, "next"), (False, 1, "once"),
                                                                            (True, 3, "last")]
    assert rows[1][1]["id"] == first["id"]
    assert await seqs(client, room_id) == [1, 2, 3]
