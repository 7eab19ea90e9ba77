"""The real server, started the way the README does: no DATABASE_URL, so the embedded
PostgreSQL comes up under the data directory; then SIGTERM must end it all cleanly."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import psutil
import pytest

from tests.support import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# What the README's `make serve` leaves unset.
UNSET = {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "APP_ENV", "PORT", "HOST", "VEZA_DATA_DIR"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `python -m veza serve` process with its log in a file."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if k not in UNSET}
        self._log_file = log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "veza", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(data_dir)],
            env=env, cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, "server died:\n" + self.log.read_text()
                try:
                    async with http.get(self.url + "/readyz") as resp:
                        if resp.status == 200 and (await resp.json())["data"]["status"] == "ready":
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("server not ready in time:\n" + self.log.read_text())

    async def stop(self, timeout: float = 10) -> tuple[int | None, float]:
        """SIGTERM; returns (exit code or None if it did not exit in time, seconds taken)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "postgres" in (proc.info["name"] or "") and str(data_dir) in cmdline:
            found.append(proc)
    return found


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: when run as root, PostgreSQL runs as another user that must
    # traverse the path, and a concurrent pytest session resets pytest-of-<user>/ to 0700.
    path = Path(tempfile.mkdtemp(prefix="veza-serve-")) / "data"
    yield path
    # Whatever happened in the test, leave no database server behind.
    for proc in postgres_processes(path):
        proc.kill()
    shutil.rmtree(path.parent, ignore_errors=True)


async def _post(http: aiohttp.ClientSession, url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


@pytest.mark.slow
async def test_serve_with_embedded_postgres_then_sigterm(data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    server = Server(data_dir, log)
    try:
        await server.wait_ready()
        assert postgres_processes(data_dir), "the embedded PostgreSQL should run under the data directory"
        name = f"first_{uuid.uuid4().hex[:8]}"
        async with aiohttp.ClientSession() as http:
            api = server.url + "/api/v1"
            status, body = await _post(http, api + "/auth/register",
                                       {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
            assert status == 201, body
            status, body = await _post(http, api + "/auth/login", {"email": f"{name}@example.com", "password": PASSWORD})
            assert status == 200 and body["data"]["user"]["username"] == name
            token = body["data"]["access_token"]
            async with http.get(api + "/users/me", headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200
        code, took = await server.stop()
        assert code == 0, f"exit {code} after {took:.1f}s:\n{log.read_text()}"
    finally:
        server.kill()
    assert postgres_processes(data_dir) == [], "embedded PostgreSQL outlived the server"
    text = log.read_text()
    assert "JWT_SECRET is not set" in text and (data_dir / "jwt_secret").exists()
    assert "Traceback" not in text, text
    assert "veza.access" in text and " GET /api/v1/users/me 200 " in text, text  # ACCESS_LOG on by default
    assert "Veza stopped after" in text, text

    # Same data directory again: same database, same dev secret, so yesterday's token still works.
    again = Server(data_dir, log)
    try:
        await again.wait_ready()
        async with aiohttp.ClientSession() as http:
            async with http.get(again.url + "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 200 and (await resp.json())["data"]["username"] == name
        code, took = await again.stop()
        assert code == 0, f"exit {code} after {took:.1f}s:\n{log.read_text()}"
    finally:
        again.kill()
    assert postgres_processes(data_dir) == []


@pytest.mark.slow
async def test_sigterm_during_a_request_still_exits_cleanly(data_dir: Path, tmp_path: Path) -> None:
    """An open WebSocket, keep-alive connections and an in-flight login must not hold the
    process past 10 s; the socket is told the server is going away (1001)."""
    log = tmp_path / "server.log"
    server = Server(data_dir, log)
    try:
        await server.wait_ready()
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(server.url.replace("http", "ws") + "/api/v1/ws")
            await ws.send_json({"type": "ping", "ref": "before"})
            assert (await ws.receive_json(timeout=5))["type"] == "pong"
            login = asyncio.ensure_future(
                _post(http, server.url + "/api/v1/auth/login", {"email": "nobody@example.com", "password": PASSWORD}))
            await asyncio.sleep(0.05)
            code, took = await server.stop()
            assert code == 0, f"exit {code} after {took:.1f}s:\n{log.read_text()}"
            closing = await ws.receive(timeout=5)
            # The server's close frame says "going away" (the process may be gone before we answer it).
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1001, closing
            await ws.close()
            try:  # the login either finished (401) or its connection was closed by the shutdown
                status, _ = await login
                assert status == 401
            except aiohttp.ClientError:
                pass
    finally:
        server.kill()
    assert postgres_processes(data_dir) == []
