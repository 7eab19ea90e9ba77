"""GET and PUT /users/me: the caller's own profile."""

from __future__ import annotations

import json
import uuid

from tests.support import ApiClient


async def test_get_me_returns_the_profile(client: ApiClient) -> None:
    user = await client.register()
    reply = await client.get("/users/me", user=user)
    assert reply.status == 200
    data = reply.data
    assert data["id"] == user.id and data["username"] == user.username and data["email"] == user.email
    assert data["role"] == "user" and data["bio"] == "" and data["avatar_url"] is None
    assert data["created_at"].endswith("Z") and data["updated_at"].endswith("Z")
    assert "password_hash" not in data and "password" not in json.dumps(reply.body)


async def test_get_me_shows_the_role(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    assert (await client.get("/users/me", user=creator)).data["role"] == "creator"


async def test_put_me_updates_username_bio_and_avatar(client: ApiClient) -> None:
    user = await client.register()
    new_name = f"renamed_{uuid.uuid4().hex[:6]}"
    body = {"username": new_name, "bio": "Producer from Lyon.", "avatar_url": "https://cdn.example.com/a.png"}
    reply = await client.put("/users/me", json=body, user=user)
    assert reply.status == 200
    assert {k: reply.data[k] for k in body} == body
    assert reply.data["updated_at"] >= reply.data["created_at"]
    again = await client.get("/users/me", user=user)
    assert {k: again.data[k] for k in body} == body


async def test_put_me_changes_only_the_fields_sent(client: ApiClient) -> None:
    user = await client.register()
    await client.put("/users/me", json={"bio": "first", "avatar_url": "https://x.example/a.png"}, user=user)
    reply = await client.put("/users/me", json={"bio": "second"}, user=user)
    assert reply.data["bio"] == "second"
    assert reply.data["avatar_url"] == "https://x.example/a.png" and reply.data["username"] == user.username
    empty = await client.put("/users/me", json={}, user=user)
    assert empty.status == 200 and empty.data["bio"] == "second"


async def test_put_me_clears_the_avatar_with_an_empty_string(client: ApiClient) -> None:
    user = await client.register()
    await client.put("/users/me", json={"avatar_url": "https://x.example/a.png"}, user=user)
    reply = await client.put("/users/me", json={"avatar_url": ""}, user=user)
    assert reply.status == 200 and reply.data["avatar_url"] is None


async def test_put_me_rejects_bad_fields_naming_them(client: ApiClient) -> None:
    user = await client.register()
    cases = [
        ({"username": "x"}, "username"),
        ({"username": "has spaces in it"}, "username"),
        ({"username": "u" * 65}, "username"),
        ({"username": 12}, "username"),
        ({"bio": "b" * 2001}, "bio"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"avatar_url": "https://x.example/" + "a" * 2048}, "avatar_url"),
        ({"email": "new@example.com"}, "email"),  # not editable here: unknown fields are refused
        ({"role": "admin"}, "role"),
    ]
    for body, field in cases:
        reply = await client.put("/users/me", json=body, user=user)
        assert reply.status == 400, (body, reply.body)
        assert reply.body["success"] is False and reply.body["code"] == "invalid"
        assert field in reply.body["details"], (body, reply.body)
        assert field in reply.body["error"], (body, reply.body)
    me = await client.get("/users/me", user=user)
    assert me.data["role"] == "user" and me.data["username"] == user.username


async def test_put_me_rejects_malformed_json_and_wrong_content_type(client: ApiClient) -> None:
    user = await client.register()
    bad = await client.put("/users/me", data=b'{"bio": ', user=user, headers={"Content-Type": "application/json"})
    assert bad.status == 400 and bad.body["code"] == "invalid"
    array = await client.put("/users/me", data=b'["bio"]', user=user, headers={"Content-Type": "application/json"})
    assert array.status == 400
    text = await client.put("/users/me", data=b"bio=x", user=user, headers={"Content-Type": "text/plain"})
    assert text.status == 415 and text.body["code"] == "unsupported_media_type"


async def test_put_me_body_over_one_mebibyte_is_413(client: ApiClient) -> None:
    user = await client.register()
    payload = json.dumps({"bio": "x" * (1024 * 1024 + 1)})
    reply = await client.put("/users/me", data=payload, user=user, headers={"Content-Type": "application/json"})
    assert reply.status == 413 and reply.body["code"] == "too_large"


async def test_put_me_taken_username_is_409(client: ApiClient) -> None:
    alice, bob = await client.register(), await client.register()
    for taken in (alice.username, alice.username.upper()):
        reply = await client.put("/users/me", json={"username": taken}, user=bob)
        assert reply.status == 409, reply.body
        assert reply.body["code"] == "conflict" and "username" in reply.body["details"]
    assert (await client.get("/users/me", user=bob)).data["username"] == bob.username
    # Re-sending one's own name is not a conflict.
    assert (await client.put("/users/me", json={"username": bob.username}, user=bob)).status == 200


async def test_users_me_without_a_token_is_401(client: ApiClient) -> None:
    for method in ("GET", "PUT"):
        reply = await client.call(method, "/users/me", json={})
        assert reply.status == 401 and reply.body["code"] == "unauthorized"
        assert reply.headers.get("WWW-Authenticate") is None or "Bearer" in reply.headers["WWW-Authenticate"]
    bad = await client.put("/users/me", json={"bio": "x"}, token="not.a.jwt")
    assert bad.status == 401 and bad.headers["WWW-Authenticate"] == "Bearer"
