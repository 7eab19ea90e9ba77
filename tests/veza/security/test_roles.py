"""Roles: `user` or `creator` chosen at registration, any role set by an admin
(`PUT /admin/users/:id/role`), and a new role reaching the user's open sockets at once,
on every node."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support import ApiClient, User
from tests.veza.ws.chat_support import joined, recv, room, say
from veza import keys
from veza.app import create_app
from veza.config import Settings


async def _set_role(client: ApiClient, admin: User, target: User, role: str):  # type: ignore[no-untyped-def]
    return await client.put(f"/admin/users/{target.id}/role", user=admin, json={"role": role})


async def test_an_admin_sets_any_role_and_it_shows_at_once(client: ApiClient) -> None:
    admin, user = await client.register(role="admin"), await client.register()
    for role in ("creator", "admin", "user"):
        reply = await _set_role(client, admin, user, role)
        assert reply.status == 200, reply.body
        assert reply.data == {"id": user.id, "username": user.username, "email": user.email, "role": role}
        assert (await client.get("/users/me", user=user)).data["role"] == role
    assert (await client.get("/admin/feature-flags", user=user)).status == 403


async def test_the_role_route_refuses_strangers_and_bad_input(client: ApiClient) -> None:
    admin, user, creator = await client.register(role="admin"), await client.register(), await client.register(role="creator")
    path = f"/admin/users/{user.id}/role"
    assert (await client.put(path, json={"role": "creator"})).status == 401
    for who in (user, creator):
        refused = await client.put(path, user=who, json={"role": "admin"})
        assert refused.status == 403, refused.body
    own = await _set_role(client, admin, admin, "user")
    assert own.status == 403 and "own role" in own.body["error"]
    assert (await client.get("/admin/feature-flags", user=admin)).status == 200
    for body in ({}, {"role": "root"}, {"role": 1}, {"role": None}, {"role": "user", "extra": 1}):
        bad = await client.put(path, user=admin, json=body)
        assert bad.status == 400 and "details" in bad.body, (body, bad.body)
    assert (await client.put(f"/admin/users/{uuid.uuid4()}/role", user=admin, json={"role": "user"})).status == 404
    assert (await client.put("/admin/users/nope/role", user=admin, json={"role": "user"})).status == 404
    assert (await client.get("/users/me", user=user)).data["role"] == "user"  # nothing changed


async def test_admin_keys_need_the_admin_scope_for_it(client: ApiClient) -> None:
    admin, user = await client.register(role="admin"), await client.register()
    plain = (await client.post("/developer/api-keys", user=admin, json={"name": "k", "scopes": ["write"]})).data["key"]
    scoped = (await client.post("/developer/api-keys", user=admin, json={"name": "a", "scopes": ["admin"]})).data["key"]
    path = f"/admin/users/{user.id}/role"
    assert (await client.put(path, json={"role": "creator"}, headers={"X-API-Key": plain})).status == 403
    assert (await client.put(path, json={"role": "creator"}, headers={"X-API-Key": scoped})).status == 200


async def _delete(ws, rid: str, message_id: str, ref: str) -> dict:  # type: ignore[no-untyped-def]
    """The socket's one reply to a delete frame: `ok`, or an `error` with its code."""
    await ws.send_json({"type": "delete", "room": rid, "message_id": message_id, "ref": ref})
    while True:
        frame = await recv(ws)
        if frame.get("ref") == ref:
            return frame


async def _room_with_a_message(client: ApiClient, owner: User) -> tuple[str, str]:
    rid = await room(client, owner, type_="public")
    ws = await client.ws(owner)
    await joined(ws, rid)
    message = (await say(ws, rid, "moderate me", "m1"))["message"]
    await ws.close()
    return rid, message["id"]


async def test_a_new_role_reaches_the_users_open_socket_at_once(client: ApiClient) -> None:
    admin, owner, user = await client.register(role="admin"), await client.register(), await client.register()
    rid, message_id = await _room_with_a_message(client, owner)
    ws = await client.ws(user)
    await joined(ws, rid)
    assert (await _delete(ws, rid, message_id, "d1"))["code"] == "forbidden"
    assert (await _set_role(client, admin, user, "admin")).status == 200
    # The same socket, not reconnected: a platform admin may delete any message now.
    assert (await _delete(ws, rid, message_id, "d2"))["type"] == "ok"
    await ws.close()


async def test_a_role_change_on_one_node_reaches_sockets_on_the_other(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    if settings.redis_url is None:
        pytest.skip("REDIS_URL not set")
    a = ApiClient(await aiohttp_client(create_app(settings.replace(node_id="roles-a"))))
    b = ApiClient(await aiohttp_client(create_app(settings.replace(node_id="roles-b"))))
    admin, owner, user = await a.register(role="admin"), await a.register(), await a.register()
    rid, message_id = await _room_with_a_message(b, owner)
    ws = await b.ws(user)
    await joined(ws, rid)
    assert (await _delete(ws, rid, message_id, "before"))["code"] == "forbidden"
    # Heard on b after the gateway's own listener has updated b's sockets (listeners run in
    # the order they subscribed; the gateway's subscribed when b started).
    heard: asyncio.Queue[tuple[uuid.UUID, str]] = asyncio.Queue()

    async def listener(user_id: uuid.UUID, role: str) -> None:
        await heard.put((user_id, role))

    b.app[keys.session_events].subscribe_roles(listener)
    assert (await _set_role(a, admin, user, "admin")).status == 200
    assert await asyncio.wait_for(heard.get(), 10) == (uuid.UUID(user.id), "admin")
    assert (await _delete(ws, rid, message_id, "after"))["type"] == "ok"
    await ws.close()
