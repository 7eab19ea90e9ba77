"""A token says who it was issued to; the database says what they may do now.

Tokens here are minted with the app's own signing key (what a leaked secret or a bug in
issuing would produce): a valid signature must still not buy another user's session, a
role the user does not have, or a ban's end.
"""

from __future__ import annotations

import uuid

import jwt

from protocols import frames
from tests.support import PASSWORD, ApiClient, User
from tests.veza.ws.chat_support import closed_with, joined, room, say, until
from veza import keys


def _claims(user: User) -> dict:
    return jwt.decode(user.access_token, options={"verify_signature": False})


async def _ban_in_database(client: ApiClient, user: User) -> None:
    async with client.app[keys.db].connection() as conn:
        await conn.execute("UPDATE users SET is_banned = true WHERE id = $1", uuid.UUID(user.id))


async def test_a_token_naming_another_user_than_its_sessions_owner_is_401(client: ApiClient) -> None:
    alice, mallory = await client.register(), await client.register()
    tokens = client.app[keys.tokens]
    # Alice's live session, Mallory's name on it (and the other way round).
    for sub, sid in ((mallory, alice), (alice, mallory)):
        forged = tokens.issue_access(uuid.UUID(sub.id), "user", uuid.UUID(_claims(sid)["sid"])).token
        reply = await client.get("/users/me", token=forged)
        assert reply.status == 401, reply.body
    assert (await client.get("/users/me", user=alice)).data["id"] == alice.id


async def test_the_role_claim_is_not_believed(client: ApiClient) -> None:
    user = await client.register()
    tokens = client.app[keys.tokens]
    claims = _claims(user)
    assert claims["role"] == "user"
    as_admin = tokens.issue_access(uuid.UUID(user.id), "admin", uuid.UUID(claims["sid"])).token
    refused = await client.get("/admin/feature-flags", token=as_admin)
    assert refused.status == 403 and refused.body["code"] == "forbidden"


async def test_a_role_change_applies_to_the_next_request_of_a_token_already_issued(client: ApiClient) -> None:
    admin, other = await client.register(role="admin"), await client.register(role="admin")
    login = await client.post("/auth/login", json={"email": other.email, "password": PASSWORD})
    other.access_token = login.data["access_token"]  # issued while an admin: it says so
    assert (await client.get("/admin/feature-flags", user=other)).status == 200
    demoted = await client.put(f"/admin/users/{other.id}/role", user=admin, json={"role": "user"})
    assert demoted.status == 200 and demoted.data["role"] == "user"
    assert _claims(other)["role"] == "admin"  # the same token, still claiming admin
    assert (await client.get("/admin/feature-flags", user=other)).status == 403
    assert (await client.get("/users/me", user=other)).data["role"] == "user"


async def test_a_ban_applies_to_the_next_request_even_before_sessions_are_revoked(client: ApiClient) -> None:
    user = await client.register()
    await _ban_in_database(client, user)
    reply = await client.get("/users/me", user=user)
    assert reply.status == 403 and reply.body["error"] == "Account suspended"


async def test_the_socket_takes_role_name_and_ban_from_the_database(client: ApiClient) -> None:
    owner, user = await client.register(), await client.register()
    rid = await room(client, owner, type_="public")
    owner_ws = await client.ws(owner)
    await joined(owner_ws, rid)
    message = (await say(owner_ws, rid, "hello", "o1"))["message"]
    # A chat token minted claiming admin and another name: the socket is the plain user.
    tokens = client.app[keys.tokens]
    sid = uuid.UUID(_claims(user)["sid"])
    forged = tokens.issue_chat(uuid.UUID(user.id), "admin", sid, "someone_else").token
    ws = await client.raw.ws_connect("/api/v1/ws", params={"token": forged})
    await joined(ws, rid)
    await ws.send_json({"type": "delete", "room": rid, "message_id": message["id"], "ref": "d"})
    assert (await until(ws, "error", ref="d"))["code"] == "forbidden"
    mine = (await say(ws, rid, "me", "u1"))["message"]
    assert mine["author"]["username"] == user.username
    # A chat token of another user's session is refused; so is a banned user's.
    other_sid = uuid.UUID(_claims(owner)["sid"])
    foreign = tokens.issue_chat(uuid.UUID(user.id), "user", other_sid, user.username).token
    assert await closed_with(await client.raw.ws_connect("/api/v1/ws", params={"token": foreign})) == frames.CLOSE_UNAUTHORIZED
    token = await client.chat_token(user)
    await _ban_in_database(client, user)
    late = await client.raw.ws_connect("/api/v1/ws", params={"token": token})
    assert await closed_with(late) == frames.CLOSE_UNAUTHORIZED
    await ws.close()
    await owner_ws.close()


async def test_an_api_key_chat_token_is_held_to_the_ban_too(client: ApiClient) -> None:
    user = await client.register()
    key = (await client.post("/developer/api-keys", user=user, json={"name": "bot", "scopes": ["write"]})).data["key"]
    token = (await client.get("/chat/token", headers={"X-API-Key": key})).data["token"]
    ws = await client.raw.ws_connect("/api/v1/ws", params={"token": token})
    await ws.send_json({"type": "ping", "ref": 1})
    assert (await until(ws, "pong"))["ref"] == 1
    await ws.close()
    await _ban_in_database(client, user)
    banned = await client.raw.ws_connect("/api/v1/ws", params={"token": token})
    assert await closed_with(banned) == frames.CLOSE_UNAUTHORIZED
