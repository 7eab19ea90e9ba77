"""Authentication per the reference: register, login, refresh rotation, logout."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import jwt

from tests.support import PASSWORD, ApiClient
from tests.veza.security.test_refresh_grace import age_rotation


async def test_register_matches_reference(client: ApiClient) -> None:
    name = f"johndoe_{uuid.uuid4().hex[:6]}"
    reply = await client.post("/auth/register", json={"username": name, "email": f"{name}@example.com",
                                                      "password": "SecureP@ssw0rd"})
    assert reply.status == 201
    assert reply.body["success"] is True
    data = reply.data
    assert set(data["user"]) >= {"id", "username", "email"}
    assert data["user"]["username"] == name
    uuid.UUID(data["user"]["id"])
    assert data["access_token"].startswith("eyJ") and data["refresh_token"].startswith("eyJ")
    assert data["expires_in"] == 3600


async def test_login_matches_reference(client: ApiClient) -> None:
    user = await client.register()
    reply = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    assert reply.status == 200
    assert reply.data["user"] == {"id": user.id, "username": user.username, "email": user.email, "role": "user"}
    assert reply.data["expires_in"] == 3600
    me = await client.get("/users/me", token=reply.data["access_token"])
    assert me.status == 200 and me.data["id"] == user.id


async def test_wrong_password_and_unknown_email_read_the_same(client: ApiClient) -> None:
    user = await client.register()
    wrong = await client.post("/auth/login", json={"email": user.email, "password": "Wrong-Passw0rd!"})
    unknown = await client.post("/auth/login", json={"email": "nobody-" + user.email, "password": PASSWORD})
    assert wrong.status == unknown.status == 401
    assert wrong.body["error"] == unknown.body["error"]
    assert wrong.body["success"] is False and wrong.body["code"] == "unauthorized"


async def test_register_rejects_bad_input_naming_the_rule(client: ApiClient) -> None:
    base = {"username": "okname_" + uuid.uuid4().hex[:6], "email": "ok@example.com", "password": PASSWORD}
    cases = [
        ({**base, "email": "not-an-email"}, "email"),
        ({**base, "password": "short"}, "password"),
        ({**base, "password": "alllowercase1!"}, "password"),
        ({**base, "username": "x"}, "username"),
        ({**base, "username": "u" * 100}, "username"),
        ({k: v for k, v in base.items() if k != "password"}, "password"),
        ({**base, "email": 42}, "email"),
    ]
    for body, field in cases:
        reply = await client.post("/auth/register", json=body)
        assert reply.status == 400, (body, reply.body)
        assert reply.body["code"] == "invalid"
        assert field in reply.body["details"], reply.body
    weak = await client.post("/auth/register", json={**base, "password": "alllowercase"})
    assert "uppercase" in weak.body["details"]["password"] and "digit" in weak.body["details"]["password"]


async def test_malformed_json_and_wrong_content_type(client: ApiClient) -> None:
    bad = await client.post("/auth/login", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status == 400 and bad.body["code"] == "invalid"
    form = await client.post("/auth/login", data=b"email=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415 and form.body["success"] is False


async def test_body_over_one_mebibyte_is_413(client: ApiClient) -> None:
    payload = json.dumps({"email": "a@b.co", "password": "x" * (1024 * 1024 + 10)})
    reply = await client.post("/auth/login", data=payload, headers={"Content-Type": "application/json"})
    assert reply.status == 413 and reply.body["code"] == "too_large"


async def test_duplicate_email_or_username_is_409(client: ApiClient) -> None:
    user = await client.register()
    dup_email = await client.post("/auth/register", json={"username": "other_" + uuid.uuid4().hex[:6],
                                                          "email": user.email.upper(), "password": PASSWORD})
    assert dup_email.status == 409 and "email" in dup_email.body["details"]
    dup_name = await client.post("/auth/register", json={"username": user.username.upper(),
                                                         "email": f"x{uuid.uuid4().hex[:6]}@example.com", "password": PASSWORD})
    assert dup_name.status == 409 and "username" in dup_name.body["details"]


async def test_concurrent_registrations_exactly_one_wins(client: ApiClient) -> None:
    email = f"race_{uuid.uuid4().hex[:8]}@example.com"
    bodies = [{"username": f"race_{i}_{uuid.uuid4().hex[:6]}", "email": email, "password": PASSWORD} for i in range(8)]
    replies = await asyncio.gather(*(client.post("/auth/register", json=b) for b in bodies))
    statuses = sorted(r.status for r in replies)
    assert statuses.count(201) == 1 and statuses.count(409) == 7, statuses


async def test_refresh_rotates_and_reuse_revokes_the_session(client: ApiClient) -> None:
    user = await client.register()
    first = await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status == 200
    rotated = first.data["refresh_token"]
    assert rotated != user.refresh_token
    # Presenting the spent token again, once the grace for a second tab is over, is theft:
    # the whole session dies.
    await age_rotation(client, first.data["access_token"])
    reuse = await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert reuse.status == 401
    after = await client.post("/auth/refresh", json={"refresh_token": rotated})
    assert after.status == 401
    me = await client.get("/users/me", token=first.data["access_token"])
    assert me.status == 401


async def test_refresh_from_cookie(client: ApiClient) -> None:
    user = await client.register()
    csrf = (await client.get("/csrf-token")).data["csrf_token"]
    reply = await client.post("/auth/refresh", headers={"Cookie": f"refresh_token={user.refresh_token}; csrf_token={csrf}",
                                                        "X-CSRF-Token": csrf})
    assert reply.status == 200 and reply.data["refresh_token"] != user.refresh_token


async def test_logout_revokes_access_and_refresh(client: ApiClient) -> None:
    user = await client.register()
    out = await client.post("/auth/logout", user=user)
    assert out.status == 200
    assert (await client.get("/users/me", user=user)).status == 401
    assert (await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})).status == 401


async def test_logout_with_a_dead_refresh_token_still_clears_the_cookie(client: ApiClient) -> None:
    """A browser must be able to drop a cookie the server no longer honours."""
    reply = await client.post("/auth/logout", json={"refresh_token": "garbage"})
    assert reply.status == 200
    assert "refresh_token=" in reply.headers.get("Set-Cookie", "") and "Max-Age=0" in reply.headers["Set-Cookie"]


async def test_logout_without_token_is_harmless(client: ApiClient) -> None:
    reply = await client.post("/auth/logout")
    assert reply.status == 200


def _forge(claims: dict, alg: str = "none") -> str:
    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}."


async def test_expired_forged_and_alg_none_tokens_are_401(client: ApiClient) -> None:
    user = await client.register()
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, client.app["settings"].jwt_secret if False else
                         "test-secret-" + "x" * 40, algorithm="HS256")
    forged = jwt.encode(claims, "another-secret-entirely-000000000000000", algorithm="HS256")
    for token in (expired, forged, _forge(claims), "garbage", user.refresh_token):
        reply = await client.get("/users/me", token=token)
        assert reply.status == 401, token
        assert reply.body["code"] == "unauthorized"


async def test_a_user_agent_that_is_not_utf8_is_stored_replaced_not_a_500(client: ApiClient) -> None:
    """aiohttp hands non-UTF-8 header bytes on as lone surrogates, which PostgreSQL refuses."""
    user = await client.register()
    body = json.dumps({"email": user.email, "password": PASSWORD}).encode()
    reader, writer = await asyncio.open_connection(client.raw.host, client.raw.port)
    writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"User-Agent: probe/\xff\xfe\r\nConnection: close\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    listed = (await client.get("/sessions", user=user)).data["sessions"]
    assert "probe/\ufffd\ufffd" in [s["user_agent"] for s in listed]


async def test_register_may_choose_creator_but_never_admin(client: ApiClient) -> None:
    def body(role: object = None) -> dict:
        name = f"role_{uuid.uuid4().hex[:8]}"
        extra = {} if role is None else {"role": role}
        return {"username": name, "email": f"{name}@example.com", "password": PASSWORD, **extra}

    plain = await client.post("/auth/register", json=body())
    assert plain.status == 201 and plain.data["user"]["role"] == "user"
    creator = await client.post("/auth/register", json=body("creator"))
    assert creator.status == 201 and creator.data["user"]["role"] == "creator"
    me = await client.get("/users/me", token=creator.data["access_token"])
    assert me.data["role"] == "creator"
    assert (await client.post("/auth/register", json=body("user"))).data["user"]["role"] == "user"
    for role in ("admin", "Admin", "moderator", "", 3, None):
        payload = body(role) if role is not None else {**body(), "role": None}
        refused = await client.post("/auth/register", json=payload)
        assert refused.status == 400 and "role" in refused.body["details"], (role, refused.body)
    login = await client.post("/auth/login", json={"email": creator.data["user"]["email"], "password": PASSWORD})
    assert login.data["user"]["role"] == "creator"
