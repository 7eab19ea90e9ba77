"""HEAD answers wherever GET does: the same status and headers, no body (RFC 9110 9.3.2),
Range included on the track stream (audio players and CDNs probe with it)."""

from __future__ import annotations

import asyncio
import re
import uuid

from tests.audio_fixtures import wav_bytes
from tests.support import ApiClient, User
from tests.veza.api.track_helpers import make_track
from tests.veza.api.test_every_route import declared_routes

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
# Headers that differ between any two answers (or count the request itself).
_PER_ANSWER = {"date", "x-request-id", "x-ratelimit-remaining", "set-cookie", "etag", "last-modified"}


def _comparable(headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _PER_ANSWER}


async def _both(client: ApiClient, path: str, user: User | None, **headers: str) -> tuple:  # type: ignore[type-arg]
    auth = dict(user.headers) if user else {}
    auth.update(headers)
    async with client.raw.get(path, headers=auth) as resp:
        got = resp.status, _comparable(resp.headers), await resp.read()
    async with client.raw.head(path, headers=auth) as resp:
        head = resp.status, _comparable(resp.headers), await resp.read()
    return got, head


async def test_every_get_route_answers_head_with_the_same_status_and_headers(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    gets = [(p, s) for p, s in declared_routes(client.app) if s.method == "GET"]
    assert len(gets) > 30
    for prefix, spec in gets:
        for user in (None, admin):
            path = _PARAM.sub(str(uuid.uuid4()), prefix + spec.path)
            (status, headers, _body), (head_status, head_headers, head_body) = await _both(client, path, user)
            assert head_status == status, (path, user is not None, status, head_status)
            assert head_body == b""
            # The length a GET's body would have, not the HEAD's empty one (where known).
            headers.pop("content-length", None), head_headers.pop("content-length", None)
            headers.pop("transfer-encoding", None)
            assert head_headers == headers, (path, headers, head_headers)


async def test_head_on_json_keeps_content_length_of_the_get(client: ApiClient) -> None:
    async with client.raw.get("/api/v1/health") as resp:
        length = resp.headers["Content-Length"]
        assert int(length) == len(await resp.read())
    async with client.raw.head("/api/v1/health") as resp:
        assert resp.status == 200 and resp.headers["Content-Length"] == length


async def test_head_on_the_track_stream_with_and_without_range(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    audio = wav_bytes(0.5)
    track = await make_track(client, creator, data=audio)
    path = f"/api/v1/tracks/{track['id']}/stream"
    (status, headers, body), (head_status, head_headers, head_body) = await _both(client, path, None)
    assert (status, head_status, head_body) == (200, 200, b"") and len(body) == len(audio)
    assert head_headers["content-length"] == str(len(audio)) and head_headers["accept-ranges"] == "bytes"
    assert head_headers == headers
    (status, headers, body), (head_status, head_headers, head_body) = await _both(client, path, None,
                                                                                Range="bytes=10-19")
    assert (status, head_status, len(body), head_body) == (206, 206, 10, b"")
    assert head_headers["content-range"] == f"bytes 10-19/{len(audio)}" and head_headers == headers
    _, (beyond, beyond_headers, _) = await _both(client, path, None, Range=f"bytes={len(audio)}-")
    assert beyond == 416 and beyond_headers["content-range"] == f"bytes */{len(audio)}"


async def test_head_sends_no_body_bytes_on_the_wire(client: ApiClient) -> None:
    """aiohttp's client never reads a HEAD body, so look at the socket itself."""
    creator = await client.register(role="creator")
    track = await make_track(client, creator)
    server = client.raw.server
    for path in ("/api/v1/health", f"/api/v1/tracks/{track['id']}/stream", "/static/chat.css", "/favicon.ico", "/swagger"):
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        raw = await reader.read()  # until the server closes
        writer.close()
        head, _, rest = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 "), raw[:80]
        assert rest == b"", (path, rest[:80])
