"""Sessions per the reference: list (with the current flag), logout one, logout all, refresh."""

from __future__ import annotations

import uuid

import jwt

from tests.support import PASSWORD, ApiClient, User
from tests.veza.security.test_refresh_grace import age_rotation
from veza import keys


def _sid(user: User) -> str:
    return jwt.decode(user.access_token, options={"verify_signature": False})["sid"]


async def _second_device(client: ApiClient, user: User, agent: str = "VezaTest/2.0 (phone)") -> User:
    login = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD},
                              headers={"User-Agent": agent})
    assert login.status == 200, login.body
    return User(user.id, user.username, user.email, login.data["access_token"], login.data["refresh_token"])


async def test_list_sessions_shows_devices_and_marks_the_current_one(client: ApiClient) -> None:
    laptop = await client.register()
    phone = await _second_device(client, laptop)
    reply = await client.get("/sessions", user=phone)
    assert reply.status == 200
    data = reply.data
    assert data["total"] == 2 and len(data["sessions"]) == 2
    by_id = {s["id"]: s for s in data["sessions"]}
    assert set(by_id) == {_sid(laptop), _sid(phone)}
    assert by_id[_sid(phone)]["current"] is True and by_id[_sid(laptop)]["current"] is False
    assert by_id[_sid(phone)]["user_agent"] == "VezaTest/2.0 (phone)"
    for session in data["sessions"]:
        assert session["ip_address"] == "127.0.0.1"
        for field in ("created_at", "last_used_at", "expires_at"):
            assert session[field].endswith("Z"), session
    # The same list seen from the other device flips the flag.
    other = await client.get("/sessions", user=laptop)
    assert [s["id"] for s in other.data["sessions"] if s["current"]] == [_sid(laptop)]


async def test_sessions_are_private_to_their_user(client: ApiClient) -> None:
    alice, bob = await client.register(), await client.register()
    seen = await client.get("/sessions", user=bob)
    assert [s["id"] for s in seen.data["sessions"]] == [_sid(bob)]
    assert _sid(alice) not in str(seen.body)


async def test_use_of_an_access_token_updates_last_used(client: ApiClient) -> None:
    user = await client.register()
    sid = uuid.UUID(_sid(user))
    async with client.app[keys.db].connection() as conn:
        await conn.execute("UPDATE sessions SET last_used_at = now() - interval '1 hour' WHERE id = $1", sid)
        before = await conn.fetchval("SELECT last_used_at FROM sessions WHERE id = $1", sid)
    assert (await client.get("/users/me", user=user)).status == 200
    async with client.app[keys.db].connection() as conn:
        after = await conn.fetchval("SELECT last_used_at FROM sessions WHERE id = $1", sid)
    assert after > before


async def test_logout_one_session_by_id_leaves_the_others(client: ApiClient) -> None:
    laptop = await client.register()
    phone = await _second_device(client, laptop)
    reply = await client.post("/sessions/logout", json={"session_id": _sid(phone)}, user=laptop)
    assert reply.status == 200 and reply.data["revoked"] == 1
    assert (await client.get("/users/me", user=phone)).status == 401
    assert (await client.post("/auth/refresh", json={"refresh_token": phone.refresh_token})).status == 401
    assert (await client.get("/users/me", user=laptop)).status == 200
    listed = await client.get("/sessions", user=laptop)
    assert [s["id"] for s in listed.data["sessions"]] == [_sid(laptop)]
    # Already revoked: nothing left to log out.
    again = await client.post("/sessions/logout", json={"session_id": _sid(phone)}, user=laptop)
    assert again.status == 404 and again.body["code"] == "not_found"


async def test_logout_without_body_ends_the_current_session(client: ApiClient) -> None:
    user = await client.register()
    reply = await client.post("/sessions/logout", user=user)
    assert reply.status == 200
    assert (await client.get("/users/me", user=user)).status == 401


async def test_logout_of_another_users_session_is_404_and_harmless(client: ApiClient) -> None:
    alice, mallory = await client.register(), await client.register()
    reply = await client.post("/sessions/logout", json={"session_id": _sid(alice)}, user=mallory)
    assert reply.status == 404 and reply.body["success"] is False
    assert (await client.get("/users/me", user=alice)).status == 200
    unknown = await client.post("/sessions/logout", json={"session_id": str(uuid.uuid4())}, user=mallory)
    assert unknown.status == 404
    assert unknown.body["error"] == reply.body["error"]  # indistinguishable from an unknown id


async def test_logout_with_a_malformed_session_id_is_400(client: ApiClient) -> None:
    user = await client.register()
    for bad in ("not-a-uuid", 42, "", "1" * 300):
        reply = await client.post("/sessions/logout", json={"session_id": bad}, user=user)
        assert reply.status == 400, (bad, reply.body)
        assert "session_id" in reply.body["details"]
    assert (await client.get("/users/me", user=user)).status == 200


async def test_logout_all_kills_every_access_and_refresh_token(client: ApiClient) -> None:
    laptop = await client.register()
    phone = await _second_device(client, laptop)
    tablet = await _second_device(client, laptop, agent="Tablet")
    reply = await client.post("/sessions/logout-all", user=laptop)
    assert reply.status == 200 and reply.data["revoked"] == 3
    for device in (laptop, phone, tablet):
        me = await client.get("/users/me", user=device)
        assert me.status == 401 and me.body["code"] == "unauthorized"
        assert (await client.post("/auth/refresh", json={"refresh_token": device.refresh_token})).status == 401
    # The account itself still works: a new login opens a new session.
    assert (await client.post("/auth/login", json={"email": laptop.email, "password": PASSWORD})).status == 200


async def test_logout_all_can_keep_the_current_session(client: ApiClient) -> None:
    laptop = await client.register()
    phone = await _second_device(client, laptop)
    reply = await client.post("/sessions/logout-all", json={"keep_current": True}, user=laptop)
    assert reply.status == 200 and reply.data["revoked"] == 1
    assert (await client.get("/users/me", user=laptop)).status == 200
    assert (await client.get("/users/me", user=phone)).status == 401


async def test_logout_all_touches_only_the_callers_sessions(client: ApiClient) -> None:
    alice, bob = await client.register(), await client.register()
    assert (await client.post("/sessions/logout-all", user=alice)).status == 200
    assert (await client.get("/users/me", user=bob)).status == 200


async def test_session_revocations_are_announced(client: ApiClient) -> None:
    heard: list[tuple] = []

    async def listener(user_id, session_ids, keep) -> None:  # type: ignore[no-untyped-def]
        heard.append((str(user_id), session_ids and [str(s) for s in session_ids], keep))

    client.app[keys.session_events].subscribe(listener)
    user = await client.register()
    phone = await _second_device(client, user)
    await client.post("/sessions/logout", json={"session_id": _sid(phone)}, user=user)
    await client.post("/sessions/logout-all", user=user)
    assert heard == [(user.id, [_sid(phone)], None), (user.id, None, None)]


async def test_sessions_refresh_rotates_the_refresh_token(client: ApiClient) -> None:
    user = await client.register()
    reply = await client.post("/sessions/refresh", json={"refresh_token": user.refresh_token}, user=user)
    assert reply.status == 200
    data = reply.data
    assert data["refresh_token"] != user.refresh_token and data["expires_in"] == 3600
    assert data["user"] == {"id": user.id, "username": user.username, "email": user.email, "role": "user"}
    # Same session, rotated: the new access token works, the spent refresh token is theft.
    assert (await client.get("/users/me", token=data["access_token"])).status == 200
    await age_rotation(client, data["access_token"])  # past the grace a second tab gets
    reuse = await client.post("/sessions/refresh", json={"refresh_token": user.refresh_token},
                              token=data["access_token"])
    assert reuse.status == 401
    assert (await client.get("/users/me", token=data["access_token"])).status == 401


async def test_sessions_refresh_from_cookie(client: ApiClient) -> None:
    user = await client.register()
    reply = await client.post("/sessions/refresh", user=user, headers={"Cookie": f"refresh_token={user.refresh_token}"})
    assert reply.status == 200 and reply.data["refresh_token"] != user.refresh_token


async def test_sessions_refresh_refuses_missing_or_foreign_tokens(client: ApiClient) -> None:
    alice, bob = await client.register(), await client.register()
    missing = await client.post("/sessions/refresh", user=alice)
    assert missing.status == 401 and missing.body["code"] == "unauthorized"
    foreign = await client.post("/sessions/refresh", json={"refresh_token": bob.refresh_token}, user=alice)
    assert foreign.status == 401
    # Bob's token was not spent by the refused attempt.
    assert (await client.post("/auth/refresh", json={"refresh_token": bob.refresh_token})).status == 200
    garbage = await client.post("/sessions/refresh", json={"refresh_token": "eyJnope"}, user=alice)
    assert garbage.status == 401
    as_access = await client.post("/sessions/refresh", json={"refresh_token": alice.access_token}, user=alice)
    assert as_access.status == 401


async def test_session_routes_without_a_token_are_401(client: ApiClient) -> None:
    for method, path in (("GET", "/sessions"), ("POST", "/sessions/logout"), ("POST", "/sessions/logout-all"),
                         ("POST", "/sessions/refresh")):
        reply = await client.call(method, path)
        assert reply.status == 401, (method, path, reply.body)
        assert reply.body == {"success": False, "error": reply.body["error"], "code": "unauthorized",
                              "request_id": reply.headers["X-Request-ID"]}
