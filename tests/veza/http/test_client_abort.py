"""A client that closes mid-body is a client abort (499, one log line), never a 500."""

from __future__ import annotations

import asyncio
import logging


async def _abort_mid_body(host: str, port: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n{\"type\": ")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_a_client_closing_mid_body_counts_as_499_not_500(client, caplog) -> None:
    server = client.raw.server
    caplog.set_level(logging.INFO)
    for _ in range(3):
        await _abort_mid_body(server.host, server.port)
    text = ""
    for _ in range(100):  # until the server has noticed all three aborts
        async with client.raw.get("/metrics") as resp:
            text = await resp.text()
        if text.count('status="499"') and 'route="/api/v1/validate"' in text:
            line = [ln for ln in text.splitlines() if 'status="499"' in ln and "/validate" in ln]
            if line and float(line[0].rsplit(" ", 1)[1]) >= 3:
                break
        await asyncio.sleep(0.05)
    validate = [ln for ln in text.splitlines() if "veza_http_requests_total" in ln and "/validate" in ln]
    assert any('status="499"' in ln for ln in validate), validate
    assert not any('status="500"' in ln for ln in validate), validate
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text
