"""Requests aiohttp's parser rejects are one log line each, never a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

NUL_IN_HEADER = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n"
LONG_URL = b"GET /api/v1/" + b"a" * 8200 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
LONG_HEADER = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"


async def _send_raw(host: str, port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(raw)
    await writer.drain()
    answer = await reader.read(65536)
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.parametrize("raw", [NUL_IN_HEADER, LONG_URL, LONG_HEADER], ids=["nul-header", "8k-url", "9k-header"])
async def test_a_malformed_request_is_a_400_and_one_log_line(client, caplog, raw: bytes) -> None:
    server = client.raw.server
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    answer = await _send_raw(server.host, server.port, raw)
    assert answer.split(b"\r\n", 1)[0].endswith(b"400 Bad Request"), answer[:100]
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(records) == 1, [r.getMessage() for r in records]
    (record,) = records
    line = record.getMessage()
    assert "\n" not in line and len(line) < 400, line
    assert line.startswith("rejected a malformed request from 127.0.0.1: 400"), line
    assert record.exc_info is None and record.levelno == logging.INFO
    assert "Traceback" not in caplog.text


async def test_other_aiohttp_server_records_are_left_alone(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.server")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "1.2.3.4")
    (record,) = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
