"""The HTTP plumbing every route shares: security headers, CORS, request ids in responses
and logs, errors in the envelope (404/405/413/500), malformed UUIDs."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator

import jwt
import pytest
from aiohttp import web

from tests.audio_fixtures import wav_bytes
from tests.support import ApiClient
from tests.veza.api.track_helpers import make_track
from veza import keys
from veza.app import create_app
from veza.config import Settings
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.logging_setup import build_handler

MINTED = re.compile(r"[0-9a-f]{16}-[0-9]+")  # the node's random prefix, then its counter
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Server": "Veza",  # not aiohttp's, which names its version and Python's
}


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """What the server's own log handler writes, captured."""
    stream = io.StringIO()
    handler = build_handler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def _probe_router() -> ApiRouter:
    """Routes that exist only in tests, mounted through the real ApiRouter and middlewares."""
    router = ApiRouter("probe")

    @router.get("/probe/crash")
    async def crash(request: web.Request) -> web.Response:
        raise RuntimeError("secret-internal-detail: db password is hunter2")

    @router.get("/probe/log")
    async def log_something(request: web.Request) -> web.Response:
        logging.getLogger("veza.probe").info("handling the probe")
        return ok({"logged": True})

    @router.get("/probe/things/{id}")
    async def thing(request: web.Request) -> web.Response:
        return ok({"id": str(path_uuid(request, "id"))})

    return router


@pytest.fixture
async def probe(aiohttp_client, app: web.Application) -> ApiClient:  # type: ignore[no-untyped-def]
    _probe_router().add_to(app)
    return ApiClient(await aiohttp_client(app))


async def _client_for(aiohttp_client, settings: Settings) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(await aiohttp_client(create_app(settings)))


def _assert_security_headers(headers, *, hsts: bool) -> None:  # type: ignore[no-untyped-def]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name
    csp = headers["Content-Security-Policy"]
    if headers.get("Content-Type", "").startswith("application/json"):
        assert csp == "default-src 'none'; frame-ancestors 'none'"  # the API: nothing to render
    else:
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp  # pages: our own scripts
    assert headers["Referrer-Policy"]
    assert headers["Permissions-Policy"]
    assert ("Strict-Transport-Security" in headers) is hsts


async def _every_kind_of_response(client: ApiClient) -> list:
    big = json.dumps({"email": "a@b.co", "password": "x" * (1024 * 1024 + 1)})
    return [
        await client.get("/health"),
        await client.get("/no/such/route"),
        await client.call("DELETE", "/health"),
        await client.get("/users/me"),
        await client.post("/auth/login", data=big, headers={"Content-Type": "application/json"}),
        await client.get("/probe/crash"),
        await client.get("/metrics"),
        await client.get("/swagger"),
        await client.call("OPTIONS", "/health", headers={"Origin": "https://evil.example",
                                                         "Access-Control-Request-Method": "GET"}),
    ]


async def test_security_headers_on_every_response_including_errors(probe: ApiClient) -> None:
    replies = await _every_kind_of_response(probe)
    assert sorted({r.status for r in replies}) == [200, 401, 403, 404, 405, 413, 500]
    for reply in replies:
        _assert_security_headers(reply.headers, hsts=False)
    async with probe.raw.get("/swagger/assets/swagger-ui.css") as resp:
        assert resp.status == 200
        _assert_security_headers(resp.headers, hsts=False)


async def test_answers_their_handlers_send_themselves_carry_the_edge_headers(client: ApiClient) -> None:
    """A WebSocket handshake and a stream send their headers from inside the handler."""
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode(), "X-Request-ID": "trace-ws-1",
               "Sec-GPC": "1"}
    async with client.raw.get("/api/v1/ws", headers=upgrade) as handshake:
        assert handshake.status == 101
        _assert_security_headers(handshake.headers, hsts=False)
        assert handshake.headers["X-Request-ID"] == "trace-ws-1" and handshake.headers["GPC"] == "1"
        assert int(handshake.headers["X-RateLimit-Remaining"]) < int(handshake.headers["X-RateLimit-Limit"])
    creator = await client.register(role="creator")
    track = await make_track(client, creator, data=wav_bytes(0.1))
    stream = await client.get(f"/tracks/{track['id']}/stream", headers={"Range": "bytes=0-9"})
    assert stream.status == 206
    _assert_security_headers(stream.headers, hsts=False)
    assert MINTED.fullmatch(stream.headers["X-Request-ID"]) and "X-RateLimit-Remaining" in stream.headers


async def test_static_files_are_served_behind_the_edge(client: ApiClient) -> None:
    page = await client.get("/static/chat.html")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    _assert_security_headers(page.headers, hsts=False)
    assert "X-RateLimit-Limit" in page.headers  # counted like any other route
    head = await client.call("HEAD", "/static/chat.html")
    assert head.status == 200 and head.headers["Content-Length"] == page.headers["Content-Length"]
    for missing_path in ("/static/vendor", "/static/nope.js", "/static/"):  # a directory, no such file, no name
        missing = await client.get(missing_path)
        assert missing.status == 404 and missing.body["code"] == "not_found", missing_path
        _assert_security_headers(missing.headers, hsts=False)


async def test_hsts_only_in_production(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await _client_for(aiohttp_client, settings.replace(app_env="production"))
    for reply in (await client.get("/health"), await client.get("/nope")):
        _assert_security_headers(reply.headers, hsts=True)
        assert "max-age=" in reply.headers["Strict-Transport-Security"]


async def test_cors_preflight_allowed_origin(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await _client_for(aiohttp_client, settings.replace(allowed_origins=("https://app.veza.example",)))
    reply = await client.call("OPTIONS", "/auth/login", headers={
        "Origin": "https://app.veza.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Authorization"})
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.veza.example"
    assert reply.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    allowed_headers = reply.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    # The actual request then carries the origin back, and exposes the request id.
    actual = await client.get("/health", headers={"Origin": "https://app.veza.example"})
    assert actual.headers["Access-Control-Allow-Origin"] == "https://app.veza.example"
    assert "X-Request-ID" in actual.headers["Access-Control-Expose-Headers"]
    assert "Origin" in actual.headers.getall("Vary")


async def test_cors_preflight_denied_origin(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await _client_for(aiohttp_client, settings.replace(allowed_origins=("https://app.veza.example",)))
    reply = await client.call("OPTIONS", "/auth/login", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert reply.status == 403
    assert reply.body["success"] is False and reply.body["code"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in reply.headers
    simple = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert simple.status == 200 and "Access-Control-Allow-Origin" not in simple.headers


async def test_cors_wildcard_allows_any_origin_without_credentials(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await _client_for(aiohttp_client, settings.replace(allowed_origins=("*",)))
    reply = await client.call("OPTIONS", "/health", headers={
        "Origin": "https://anywhere.example", "Access-Control-Request-Method": "GET"})
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in reply.headers
    actual = await client.get("/health", headers={"Origin": "https://anywhere.example"})
    assert actual.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in actual.headers  # the same answer for every origin


async def test_without_cors_answers_do_not_vary_by_origin(client: ApiClient) -> None:
    reply = await client.get("/health", headers={"Origin": "https://app.veza.example"})
    assert "Access-Control-Allow-Origin" not in reply.headers and "Vary" not in reply.headers


async def test_no_cors_configured_refuses_preflight(client: ApiClient) -> None:
    reply = await client.call("OPTIONS", "/health", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"})
    assert reply.status == 403


async def test_request_id_is_echoed_or_minted(client: ApiClient) -> None:
    mine = "client-req.42:abc"
    echoed = await client.get("/health", headers={"X-Request-ID": mine})
    assert echoed.headers["X-Request-ID"] == mine
    minted = await client.get("/health")
    assert MINTED.fullmatch(minted.headers["X-Request-ID"])
    other = await client.get("/health")
    assert other.headers["X-Request-ID"] != minted.headers["X-Request-ID"]


async def test_a_bad_request_id_is_replaced(client: ApiClient) -> None:
    for bad in ("has spaces", "x" * 129, "<script>", "new\\nline", "é"):
        reply = await client.get("/health", headers={"X-Request-ID": bad})
        rid = reply.headers["X-Request-ID"]
        assert rid != bad and MINTED.fullmatch(rid), bad


async def test_request_id_on_errors_matches_the_body(client: ApiClient) -> None:
    for reply in (await client.get("/users/me", headers={"X-Request-ID": "trace-401"}),
                  await client.get("/nope", headers={"X-Request-ID": "trace-404"}),
                  await client.call("PATCH", "/health", headers={"X-Request-ID": "trace-405"})):
        assert reply.body["request_id"] == reply.headers["X-Request-ID"]
        assert reply.body["request_id"].startswith("trace-")


async def test_request_id_is_in_log_lines(probe: ApiClient, log_stream: io.StringIO) -> None:
    reply = await probe.get("/probe/log", headers={"X-Request-ID": "trace-log-1"})
    assert reply.status == 200
    lines = [line for line in log_stream.getvalue().splitlines() if "handling the probe" in line]
    assert len(lines) == 1 and "[trace-log-1]" in lines[0], log_stream.getvalue()


async def test_unknown_route_and_method_answer_in_the_envelope(client: ApiClient) -> None:
    missing = await client.get("/definitely/not/here")
    assert missing.status == 404
    assert missing.body["success"] is False and missing.body["code"] == "not_found"
    root_missing = await client.raw.get("/nothing-at-root")
    assert root_missing.status == 404 and (await root_missing.json())["code"] == "not_found"
    wrong = await client.call("DELETE", "/auth/login")
    assert wrong.status == 405 and wrong.body["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    # Misses pass the whole edge: limited like the route they missed, and 405s name the methods.
    patched = await client.call("PATCH", "/announcements/active")
    assert patched.status == 405 and patched.headers["Allow"] == "GET,HEAD"  # HEAD beside every GET
    assert "X-RateLimit-Remaining" in patched.headers and "X-RateLimit-Remaining" in missing.headers


async def test_body_over_limit_is_413_in_the_envelope(client: ApiClient) -> None:
    payload = b'{"email": "' + b"a" * (1024 * 1024) + b'"}'
    reply = await client.post("/auth/register", data=payload, headers={"Content-Type": "application/json"})
    assert reply.status == 413
    assert reply.body["success"] is False and reply.body["code"] == "too_large"


async def test_a_crash_is_a_500_envelope_with_the_trace_only_in_the_log(probe: ApiClient,
                                                                        log_stream: io.StringIO) -> None:
    reply = await probe.get("/probe/crash", headers={"X-Request-ID": "trace-crash"})
    assert reply.status == 500
    assert reply.body == {"success": False, "error": "Internal server error", "code": "internal",
                          "request_id": "trace-crash"}
    raw = json.dumps(reply.body)
    assert "Traceback" not in raw and "hunter2" not in raw and "RuntimeError" not in raw
    log = log_stream.getvalue()
    assert "[trace-crash]" in log and "Traceback" in log and "hunter2" in log
    # The server keeps serving.
    assert (await probe.get("/health")).status == 200


async def test_malformed_uuids_are_404_never_500(probe: ApiClient) -> None:
    good = str(uuid.uuid4())
    assert (await probe.get(f"/probe/things/{good}")).data == {"id": good}
    for bad in ("not-a-uuid", "1", "%00", "'%20OR%201=1", "0" * 300, good + "0"):
        reply = await probe.get(f"/probe/things/{bad}")
        assert reply.status == 404, (bad, reply.status)
        assert reply.body["success"] is False and reply.body["code"] == "not_found"


async def test_a_token_with_a_malformed_session_id_is_401(client: ApiClient) -> None:
    """Correctly signed (with the server's own secret), but the ids inside are garbage."""
    user = await client.register()
    secret = client.app[keys.settings].jwt_secret
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    for bad in ({"sid": "not-a-uuid"}, {"sid": 5}, {"sid": None}, {"sub": "nobody"}):
        token = jwt.encode({**claims, **bad}, secret, algorithm="HS256")
        reply = await client.get("/users/me", token=token)
        assert reply.status == 401, (bad, reply.body)
        assert reply.body["code"] == "unauthorized"
    refresh_claims = jwt.decode(user.refresh_token, options={"verify_signature": False})
    for bad in ({"sid": "not-a-uuid"}, {"sid": 5}, {"sub": ["x"]}):
        token = jwt.encode({**refresh_claims, **bad}, secret, algorithm="HS256")
        reply = await client.post("/auth/refresh", json={"refresh_token": token})
        assert reply.status == 401, (bad, reply.body)
        # Logout has nothing to revoke for such a token: it only clears the cookie.
        assert (await client.post("/auth/logout", json={"refresh_token": token})).status == 200


async def test_a_literal_path_beside_an_id_route_allows_only_its_own_methods(client: ApiClient) -> None:
    """/conversations/public is GET; /conversations/{id} beside it has PUT and DELETE."""
    user = await client.register()
    for method in ("OPTIONS", "PUT", "DELETE", "PATCH"):
        reply = await client.call(method, "/conversations/public", user=user)
        assert reply.status == 405, (method, reply.status, reply.body)
        assert reply.headers["Allow"] == "GET,HEAD" and reply.body["code"] == "method_not_allowed"
    me = await client.call("OPTIONS", "/live/streams/me", user=user)
    assert me.status == 405 and me.headers["Allow"] == "GET,HEAD"
    assert (await client.get("/conversations/public", user=user)).status == 200
    # The {id} route itself keeps its methods.
    some = await client.call("OPTIONS", "/conversations/00000000-0000-0000-0000-000000000000", user=user)
    assert some.status == 405 and set(some.headers["Allow"].split(",")) == {"GET", "HEAD", "PUT", "DELETE"}
