"""Session lookups batched (veza.cluster.session_reader): one query for the upgrades of the
moment, answers exactly the database's (nothing kept), and a revocation announced while a
socket is opening still closes it, on every node."""

from __future__ import annotations

import asyncio
import uuid

from protocols import frames
from tests.support import ApiClient
from tests.veza.cluster.test_nodes import Nodes, closed_with, node  # noqa: F401 (the fixture)
from tests.veza.ws.test_gateway import recv
from veza import keys
from veza.store import sessions


def sid_of(client: ApiClient, user) -> uuid.UUID:  # type: ignore[no-untyped-def]
    claims = client.app[keys.tokens].decode(user.access_token, "access")
    return uuid.UUID(claims["sid"])


async def test_lookups_of_one_moment_share_one_query_and_say_what_the_database_says(client: ApiClient) -> None:
    users = [await client.register() for _ in range(6)]
    reader = client.app[keys.session_reader]
    db = client.app[keys.db]
    ids = [sid_of(client, u) for u in users]
    async with db.connection() as conn:  # changed behind everyone's back: no announcement at all
        await conn.execute("UPDATE users SET is_banned = true WHERE id = $1", uuid.UUID(users[0].id))
        await conn.execute("UPDATE users SET role = 'creator' WHERE id = $1", uuid.UUID(users[1].id))
        await sessions.revoke_session(conn, ids[2], reason="test")
    before = reader.queries
    unknown = uuid.uuid4()
    found = await asyncio.gather(*(reader.state(sid) for sid in [*ids, unknown, *ids]))
    assert reader.queries == before + 1
    assert found[len(ids)] is None
    for k, state in enumerate(found[:len(ids)]):
        assert state is not None and state == found[len(ids) + 1 + k]
        assert state.user_id == uuid.UUID(users[k].id) and state.username == users[k].username
    assert (found[0].is_banned, found[1].role, found[2].active) == (True, "creator", False)
    assert all(s.active and not s.is_banned and s.role == "user" for s in found[3:len(ids)])


async def test_concurrent_upgrades_do_not_cost_a_query_each(client: ApiClient) -> None:
    users = [await client.register() for _ in range(30)]
    tokens = [await client.chat_token(u) for u in users]
    reader = client.app[keys.session_reader]
    queries, lookups = reader.queries, reader.lookups
    sockets = await asyncio.gather(*(client.raw.ws_connect("/api/v1/ws", params={"token": t}) for t in tokens))
    assert reader.lookups - lookups == 30
    assert reader.queries - queries < 30
    for ws in sockets:
        await ws.send_json({"type": "ping", "ref": 1})
        assert (await recv(ws))["type"] == "pong"
        await ws.close()


async def test_a_revocation_on_any_of_three_nodes_closes_the_socket_even_one_still_opening(node: Nodes) -> None:
    """The user has a socket on each of three nodes and opens a fourth on b; logout-all on
    c is announced (and relayed) while b's fourth socket is between its session check and
    its registration in b's hub. Every one of them closes with 4001."""
    a, b, c = await node("node-a"), await node("node-b"), await node("node-c")
    user, other = await a.register(), await a.register()
    opened = [await a.ws(user), await b.ws(user), await c.ws(user)]
    bystander = await b.ws(other)
    token = await b.chat_token(user)
    hub = b.app[keys.hub]
    register = hub.register
    revoked = asyncio.Event()

    async def register_after_the_revocation(conn):  # type: ignore[no-untyped-def]
        if conn.user_id == uuid.UUID(user.id) and not revoked.is_set():
            revoked.set()
            assert (await c.post("/sessions/logout-all", json={}, user=user)).status == 200
            reader = b.app[keys.session_reader]
            async with asyncio.timeout(10):  # relayed through Redis to b: announced there too
                while not reader.invalidated_since(uuid.UUID(user.id), reader.epoch - 1):
                    await asyncio.sleep(0.01)
        return await register(conn)

    hub.register = register_after_the_revocation  # type: ignore[method-assign]
    try:
        late = await b.raw.ws_connect("/api/v1/ws", params={"token": token})
        assert revoked.is_set()
        for ws in [*opened, late]:
            assert await closed_with(ws) == frames.CLOSE_UNAUTHORIZED
    finally:
        hub.register = register  # type: ignore[method-assign]
    await bystander.send_json({"type": "ping", "ref": 1})
    assert (await recv(bystander))["type"] == "pong"
    await bystander.close()
