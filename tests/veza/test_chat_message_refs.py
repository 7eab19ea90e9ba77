"""chat_messages' room and author, under the room writer's one-statement groups: no
message ever names a missing room or author, messages in flight included; deleting a room
takes its messages, erasing a user detaches theirs. (Per-statement triggers in place of
the two foreign keys were measured and declined: BENCHMARKS.md, issue 19 item 3.)"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from tests.support import PASSWORD, ApiClient
from tests.veza.lock_waits import someone_waits, waits_for_a_lock
from veza import keys
from veza.room_writer import RoomWriter
from veza.store import messages


async def room_of(client: ApiClient) -> tuple[uuid.UUID, Any]:
    owner = await client.register()
    reply = await client.post("/conversations", json={"type": "public", "name": "refs"}, user=owner)
    return uuid.UUID(reply.data["id"]), owner


async def test_a_message_needs_an_existing_room_and_author(client: ApiClient) -> None:
    room_id, owner = await room_of(client)
    async with client.app[keys.db].connection() as conn:
        insert = "INSERT INTO chat_messages (room_id, seq, author_id, content) VALUES ($1, $2, $3, 'x')"
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="room_id"):
            await conn.execute(insert, uuid.uuid4(), 1, uuid.UUID(owner.id))
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="author_id"):
            await conn.execute(insert, room_id, 1, uuid.uuid4())
        await conn.execute(insert, room_id, 1, None)  # no author (an erased one) is allowed
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="room_id"):
            await conn.execute("UPDATE chat_messages SET room_id = $2 WHERE room_id = $1", room_id, uuid.uuid4())
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="author_id"):
            await conn.execute("UPDATE chat_messages SET author_id = $2 WHERE room_id = $1", room_id, uuid.uuid4())
        assert await conn.fetchval("SELECT count(*) FROM chat_messages WHERE room_id = $1", room_id) == 1


async def test_deleting_a_room_deletes_its_messages_and_their_reactions(client: ApiClient) -> None:
    room_id, owner = await room_of(client)
    db = client.app[keys.db]
    async with db.connection() as conn:
        ((_, row),) = await messages.insert_batch(conn, room_id, [(uuid.UUID(owner.id), "bye", None)])
        await messages.react(conn, room_id, row["id"], uuid.UUID(owner.id), "👍", True)
    assert (await client.delete(f"/conversations/{room_id}", user=owner)).status in (200, 204)
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM chat_messages WHERE room_id = $1", room_id) == 0
        assert await conn.fetchval("SELECT count(*) FROM chat_reactions WHERE message_id = $1", row["id"]) == 0


async def test_a_room_deleted_while_a_message_is_in_flight_takes_that_message(client: ApiClient) -> None:
    """The writer's transaction is open (a plain INSERT: the guarantee is the database's,
    whoever writes); the delete waits for it, then deletes what it committed too."""
    room_id, owner = await room_of(client)
    db = client.app[keys.db]
    async with db.connection() as writer, db.connection() as deleter, db.connection() as watcher:
        async with writer.transaction():
            await writer.execute("INSERT INTO chat_messages (room_id, seq, author_id, content) VALUES ($1, 1, $2, 'x')",
                                 room_id, uuid.UUID(owner.id))
            delete = asyncio.ensure_future(deleter.execute("DELETE FROM conversations WHERE id = $1", room_id))
            await waits_for_a_lock(watcher, deleter.get_server_pid(), delete)
        assert await delete == "DELETE 1"
        assert await watcher.fetchval("SELECT count(*) FROM chat_messages WHERE room_id = $1", room_id) == 0


async def test_a_message_written_after_its_room_is_deleted_fails(client: ApiClient) -> None:
    room_id, owner = await room_of(client)
    db = client.app[keys.db]
    async with db.connection() as writer, db.connection() as deleter, db.connection() as watcher:
        async with deleter.transaction():
            await deleter.execute("DELETE FROM conversations WHERE id = $1", room_id)
            insert = asyncio.ensure_future(writer.execute(
                "INSERT INTO chat_messages (room_id, seq, author_id, content) VALUES ($1, 1, $2, 'x')",
                room_id, uuid.UUID(owner.id)))
            await waits_for_a_lock(watcher, writer.get_server_pid(), insert)
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await insert
        assert await watcher.fetchval("SELECT count(*) FROM chat_messages WHERE room_id = $1", room_id) == 0


async def test_an_account_erased_while_its_message_is_in_flight_leaves_it_detached(client: ApiClient) -> None:
    """The node's writer holds a send of the user's, uncommitted (`insert_rooms` locks the
    room, not the user: the trigger's lock is what makes the erasure wait); the erasure
    then blanks and detaches that message like the others."""
    room_id, owner = await room_of(client)
    member = await client.register()
    db = client.app[keys.db]
    async with db.connection() as writer, db.connection() as watcher:
        async with writer.transaction():
            await messages.insert_rooms(writer, [(room_id, [(uuid.UUID(member.id), "in flight", "c1")])])
            erase = asyncio.ensure_future(client.delete("/users/me", user=member, json={"password": PASSWORD}))
            await someone_waits(watcher, erase)
        assert (await erase).status == 200
        row = await watcher.fetchrow("SELECT author_id, content FROM chat_messages WHERE room_id = $1", room_id)
    assert dict(row) == {"author_id": None, "content": ""}


async def test_a_send_by_a_user_erased_meanwhile_fails_alone(client: ApiClient) -> None:
    """The user is deleted (uncommitted) when a group holding their send and another room's
    reaches the database: the group waits, then fails; written room by room, only the
    erased author's send fails and the other is stored."""
    (room_a, _), (room_b, other), (room_c, _) = await room_of(client), await room_of(client), await room_of(client)
    gone = await client.register()
    db = client.app[keys.db]
    writer = RoomWriter(db, max_inflight=1)
    async with db.connection() as deleter, db.connection() as holder, db.connection() as watcher:
        async with deleter.transaction():
            await deleter.execute("DELETE FROM users WHERE id = $1", uuid.UUID(gone.id))
            async with holder.transaction():  # the writer's first statement waits: the next two gather
                await holder.execute("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", room_c)
                busy = asyncio.ensure_future(writer.write(room_c, [(uuid.UUID(other.id), "first", None)]))
                await someone_waits(watcher, busy)
                both = asyncio.gather(writer.write(room_a, [(uuid.UUID(gone.id), "lost", None)]),
                                      writer.write(room_b, [(uuid.UUID(other.id), "kept", None)]),
                                      return_exceptions=True)
            await busy
            await someone_waits(watcher, both)  # the group, for the deleted user's row
        lost, kept = await both
    assert writer.statements == 4  # the first, the group, then its two rooms one by one
    assert isinstance(lost, asyncpg.ForeignKeyViolationError)
    assert [(fresh, row["seq"], row["content"]) for fresh, row in kept] == [(True, 1, "kept")]
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM chat_messages WHERE room_id = $1", room_a) == 0


async def test_truncating_rooms_empties_chat_messages(client: ApiClient) -> None:
    room_id, owner = await room_of(client)
    async with client.app[keys.db].connection() as conn:
        await messages.insert_batch(conn, room_id, [(uuid.UUID(owner.id), "x", None)])
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("TRUNCATE conversations CASCADE")
            assert await conn.fetchval("SELECT count(*) FROM chat_messages") == 0
        finally:
            await tx.rollback()  # the other tests' rooms stay
        assert await conn.fetchval("SELECT count(*) FROM chat_messages WHERE room_id = $1", room_id) == 1
