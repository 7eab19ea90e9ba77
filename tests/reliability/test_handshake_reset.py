"""Clients that reset the connection in the middle of the WebSocket handshake."""

from __future__ import annotations

import base64
import os
import re
import socket
import struct
import time
import urllib.request

import pytest

pytestmark = [pytest.mark.slow]


def _upgrade_then_reset(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(f"GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # a reset, not a FIN


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        return resp.read().decode()


def test_a_client_gone_during_the_handshake_is_no_error(start_server) -> None:  # type: ignore[no-untyped-def]
    server = start_server()
    for _ in range(100):
        _upgrade_then_reset(server.port)
    deadline = time.monotonic() + 20
    while "veza_websockets_open 0.0" not in (text := _metrics(server.port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "veza_websockets_open 0.0" in text
    log = server.log()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    # The resets that won the race with the handshake are counted as 499 (client closed request).
    gone = re.search(r'veza_http_requests_total\{method="GET",route="/api/v1/ws",status="499"\} (\d+)', text)
    assert gone is not None and int(gone.group(1)) > 0, text
    assert server.alive()
