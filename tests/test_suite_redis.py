"""The suite always has a Redis: the machine's REDIS_URL, or the one `conftest.py` starts
(so nothing skips with "REDIS_URL not set" on the embedded path of `make test`)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit


def test_redis_url_is_set_and_answers_ping() -> None:
    url = urlsplit(os.environ["REDIS_URL"])
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        assert conn.recv(16).startswith(b"+PONG")
