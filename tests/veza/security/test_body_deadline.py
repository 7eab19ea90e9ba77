"""Slow request bodies: a raw TCP client dribbling bytes gets a 408 and a closed connection,
whether it is too slow (under BODY_MIN_RATE) or never done (past BODY_READ_TIMEOUT)."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from aiohttp import StreamReader

from tests.support import ApiClient
from veza.config import ConfigError, Settings
from veza.http.edge.body_deadline import BodyLimits, BodyWatch


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(body_read_timeout=3.0, body_min_rate=200, body_rate_window=0.4)


def _head(path: str, length: int) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


async def _dribble(client: ApiClient, path: str, length: int, chunk: bytes, pause: float) -> tuple[bytes, bool]:
    """Announce `length` bytes, send `chunk` every `pause` seconds until the server answers;
    the answer and whether the server then closed the connection."""
    server = client.raw.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(_head(path, length))
    await writer.drain()
    answer = b""
    async with asyncio.timeout(30):  # a hang guard for the test itself, not a measured time
        sent = 0
        while not answer:
            if sent + len(chunk) < length:
                writer.write(chunk)
                sent += len(chunk)
                try:
                    await writer.drain()
                except ConnectionError:
                    break
            try:
                answer = await asyncio.wait_for(reader.read(65536), pause)
            except TimeoutError:
                continue
        rest = await reader.read()  # until the server closes
    writer.close()
    return answer + rest, reader.at_eof()


def _status_and_body(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


@pytest.mark.parametrize("path", ["/api/v1/validate", "/api/v1/auth/login"])
async def test_a_byte_now_and_then_is_408_and_the_connection_closes(client: ApiClient, path: str, caplog) -> None:
    caplog.set_level(logging.INFO)
    raw, closed = await _dribble(client, path, 1_000_000, b" ", 0.3)
    status, body = _status_and_body(raw)
    assert status == 408 and body["success"] is False and body["code"] == "request_timeout"
    assert "bytes/s" in body["details"]["body"] and body["request_id"]
    assert b"connection: close" in raw.lower()
    assert closed
    assert "Traceback" not in caplog.text


async def test_a_body_fast_enough_but_never_done_meets_the_total_deadline(client: ApiClient) -> None:
    # 200 bytes every 0.1 s is 2,000 bytes/s, well over the rate; 3 s is the whole allowance.
    raw, closed = await _dribble(client, "/api/v1/validate", 1_000_000, b" " * 200, 0.1)
    status, body = _status_and_body(raw)
    assert status == 408 and "not complete within 3 s" in body["details"]["body"]
    assert closed


async def test_a_slow_but_steady_body_is_answered_as_usual(client: ApiClient) -> None:
    payload = json.dumps({"type": "email", "value": "someone@example.com", "pad": " " * 1500}).encode()
    server = client.raw.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(_head("/api/v1/validate", len(payload)))
    for start in range(0, len(payload), 150):  # 1,500 bytes/s, over the 200 bytes/s floor
        writer.write(payload[start:start + 150])
        await writer.drain()
        await asyncio.sleep(0.1)
    raw = await asyncio.wait_for(reader.readuntil(b"}"), 10)
    writer.close()
    assert raw.startswith(b"HTTP/1.1 ") and b" 408 " not in raw.split(b"\r\n", 1)[0]
    assert (await client.get("/health")).status == 200


async def test_a_body_that_came_with_its_headers_is_not_watched(client: ApiClient) -> None:
    reply = await client.post("/validate", json={"type": "email", "value": "someone@example.com"})
    assert reply.status == 200


class _Protocol:
    """What aiohttp's StreamReader asks of its protocol (flow control), for a reader fed by hand."""

    def __init__(self) -> None:
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


async def test_our_own_slow_reading_does_not_count_against_the_client() -> None:
    """A full buffer the handler has not read yet means we are behind, not the client."""
    reader = StreamReader(_Protocol(), 2 ** 10, loop=asyncio.get_running_loop())  # type: ignore[arg-type]
    reader.feed_data(b"x" * 4096)  # over the low-water mark, unread
    watch = BodyWatch(reader, BodyLimits(timeout=60, min_rate=10_000, window=0.05))
    await asyncio.sleep(0.3)
    assert not watch.expired
    reader.read_nowait()  # the handler catches up; now the silence is the client's
    await asyncio.sleep(0.3)
    assert watch.expired and isinstance(reader.exception(), TimeoutError)
    watch.stop()


def test_the_body_settings() -> None:
    defaults = Settings.from_env({})
    assert (defaults.body_read_timeout, defaults.body_min_rate, defaults.body_rate_window) == (900.0, 1024, 10.0)
    for key, value in (("BODY_READ_TIMEOUT", "0"), ("BODY_MIN_RATE", "-1"), ("BODY_RATE_WINDOW", "x")):
        with pytest.raises(ConfigError, match=key):
            Settings.from_env({key: value})
