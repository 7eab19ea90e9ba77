"""CSRF: cookie-authenticated refresh/logout need a matching signed X-CSRF-Token."""

from __future__ import annotations

from tests.support import ApiClient
from veza.security.csrf import CsrfTokens


def _cookies(refresh: str, csrf: str | None = None) -> str:
    return f"refresh_token={refresh}" + (f"; csrf_token={csrf}" if csrf else "")


async def test_csrf_token_endpoint_sets_the_cookie(client: ApiClient) -> None:
    reply = await client.get("/csrf-token")
    assert reply.status == 200
    token = reply.data["csrf_token"]
    assert reply.data["header"] == "X-CSRF-Token" and reply.data["expires_in"] > 0
    assert f"csrf_token={token}" in reply.headers["Set-Cookie"]
    assert "HttpOnly" in reply.headers["Set-Cookie"] and "SameSite=Strict" in reply.headers["Set-Cookie"]


async def test_cookie_refresh_without_token_is_403(client: ApiClient) -> None:
    user = await client.register()
    client.raw.session.cookie_jar.clear()
    missing = await client.post("/auth/refresh", headers={"Cookie": _cookies(user.refresh_token)})
    assert missing.status == 403 and "X-CSRF-Token" in missing.body["details"]
    csrf = (await client.get("/csrf-token")).data["csrf_token"]
    client.raw.session.cookie_jar.clear()
    mismatched = await client.post("/auth/refresh", headers={"Cookie": _cookies(user.refresh_token, csrf),
                                                             "X-CSRF-Token": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")})
    assert mismatched.status == 403
    forged = "abc.9999999999.0123456789abcdef0123456789abcdef"
    self_made = await client.post("/auth/refresh", headers={"Cookie": _cookies(user.refresh_token, forged),
                                                            "X-CSRF-Token": forged})
    assert self_made.status == 403
    # None of these spent the refresh token.
    assert (await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})).status == 200


async def test_cookie_logout_needs_the_token(client: ApiClient) -> None:
    user = await client.register()
    client.raw.session.cookie_jar.clear()
    refused = await client.post("/auth/logout", headers={"Cookie": _cookies(user.refresh_token)})
    assert refused.status == 403
    assert (await client.get("/users/me", user=user)).status == 200
    csrf = (await client.get("/csrf-token")).data["csrf_token"]
    done = await client.post("/auth/logout", headers={"Cookie": _cookies(user.refresh_token, csrf), "X-CSRF-Token": csrf})
    assert done.status == 200
    assert (await client.get("/users/me", user=user)).status == 401


async def test_body_token_and_bearer_requests_need_no_csrf(client: ApiClient) -> None:
    user = await client.register()
    # The browser still sends the cookie, but the credential is in the body/header.
    by_body = await client.post("/auth/refresh", json={"refresh_token": user.refresh_token},
                                headers={"Cookie": _cookies(user.refresh_token)})
    assert by_body.status == 200
    fresh = by_body.data
    by_bearer = await client.post("/auth/logout", token=fresh["access_token"],
                                  headers={"Cookie": _cookies(fresh["refresh_token"])})
    assert by_bearer.status == 200


async def test_non_ascii_token_is_403_not_500(client: ApiClient) -> None:
    user = await client.register()
    client.raw.session.cookie_jar.clear()
    csrf = (await client.get("/csrf-token")).data["csrf_token"]
    client.raw.session.cookie_jar.clear()
    for header, cookie in (("é", csrf), (csrf, "é"), ("é.9999999999.é", "é.9999999999.é")):
        reply = await client.post("/auth/refresh", headers={"Cookie": _cookies(user.refresh_token, cookie),
                                                            "X-CSRF-Token": header})
        assert reply.status == 403 and reply.body["error"] == "CSRF token invalid", (header, cookie, reply.body)
    assert (await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})).status == 200


async def test_junk_authorization_header_does_not_waive_csrf(client: ApiClient) -> None:
    user = await client.register()
    client.raw.session.cookie_jar.clear()
    for junk in ({"Authorization": "x"}, {"Authorization": "Basic dTpw"}, {"X-API-Key": "nope"}):
        refresh = await client.post("/auth/refresh", headers={"Cookie": _cookies(user.refresh_token), **junk})
        assert refresh.status == 403, (junk, refresh.body)
        logout = await client.post("/auth/logout", headers={"Cookie": _cookies(user.refresh_token), **junk})
        assert logout.status in (401, 403), (junk, logout.body)
    # The session survived every attempt.
    assert (await client.get("/users/me", user=user)).status == 200


def test_undecodable_header_bytes_do_not_raise() -> None:
    # aiohttp hands over header bytes that are not UTF-8 as surrogate escapes.
    tokens = CsrfTokens("secret")
    assert tokens.valid("\udcff.9999999999.\udcff") is False
    assert tokens.valid(tokens.issue()) is True
