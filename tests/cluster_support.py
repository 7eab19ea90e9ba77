"""Real node processes (`python -m veza serve`) sharing one PostgreSQL and one Redis, and
chat clients that follow the protocol: join with `since` after a reconnect, resend
unacknowledged messages with the same `client_id`. Used by the cluster tests and bench."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "SecureP@ssw0rd"


class Node:
    def __init__(self, name: str, database_url: str, redis_url: str, prefix: str, workdir: Path,
                 extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        self.log = workdir / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if k not in {"PORT", "HOST"}}
        env.update({
            "APP_ENV": "test", "DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_PREFIX": prefix,
            "NODE_ID": name, "JWT_SECRET": "cluster-test-secret-" + "x" * 32, "VEZA_DATA_DIR": str(workdir / name),
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8192", "LOG_LEVEL": "WARNING",
            "WS_RATE": "100000", "WS_BURST": "100000", "DB_POOL_MIN": "1", "DB_POOL_MAX": "8",
            "SHUTDOWN_TIMEOUT": "4",
        })
        env.update(extra_env or {})
        self._log_file = self.log.open("a")
        self.proc = subprocess.Popen([sys.executable, "-m", "veza", "serve", "--host", "127.0.0.1", "--port",
                                      str(self.port)], env=env, cwd=ROOT, stdout=self._log_file,
                                     stderr=subprocess.STDOUT)

    def status(self) -> str | None:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=1) as resp:
                return str(json.loads(resp.read())["data"]["status"])
        except Exception:
            return None

    def metric(self, line_start: str) -> float:
        """The value of the first /metrics sample whose line starts with `line_start`."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=2) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(line_start):
                    return float(line.rsplit(" ", 1)[1])
        raise KeyError(line_start)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.name} died:\n" + self.log.read_text()[-3000:]
            if self.status() == "ready":
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready:\n" + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self, timeout: float = 15) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


async def api(http: aiohttp.ClientSession, method: str, url: str, token: str | None = None,
              body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body, headers=headers) as resp:
        data = await resp.json()
        assert data.get("success"), (resp.status, data)
        return data["data"]


async def register(http: aiohttp.ClientSession, node: Node) -> dict[str, Any]:
    name = f"u_{uuid.uuid4().hex[:10]}"
    data = await api(http, "POST", node.url + "/api/v1/auth/register",
                     body={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    return {"id": data["user"]["id"], "token": data["access_token"]}


async def public_room(http: aiohttp.ClientSession, node: Node, user: dict[str, Any]) -> str:
    data = await api(http, "POST", node.url + "/api/v1/conversations", user["token"],
                     {"type": "public", "name": "cluster " + uuid.uuid4().hex[:6], "members": []})
    return str(data["id"])


class ChatClient:
    """One user's socket in one room, moving to another node when its node goes away."""

    def __init__(self, http: aiohttp.ClientSession, user: dict[str, Any], room: str, nodes: list[Node],
                 home: int) -> None:
        self.http, self.user, self.room, self.nodes = http, user, room, nodes
        self.home = home
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.seqs: list[int] = []  # every message seq received (replay or live), in order
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.moves = 0
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    @property
    def last_seq(self) -> int | None:
        return self.seqs[-1] if self.seqs else None

    async def connect(self) -> None:
        for attempt in range(len(self.nodes) * 20):
            node = self.nodes[(self.home + attempt) % len(self.nodes)]
            if not node.alive:
                continue
            try:
                token = (await api(self.http, "GET", node.url + "/api/v1/chat/token", self.user["token"]))["token"]
                ws = await self.http.ws_connect(node.ws_url, params={"token": token}, heartbeat=None)
                frame: dict[str, Any] = {"type": "join", "room": self.room, "ref": "join"}
                if self.last_seq is not None:
                    frame["since"] = self.last_seq
                await ws.send_json(frame)
                while True:
                    msg = json.loads((await ws.receive(timeout=10)).data)
                    if msg["type"] == "joined":
                        break
                assert msg["recovered"], msg
                self.seqs.extend(m["seq"] for m in msg["messages"])
                self.ws, self.home = ws, self.nodes.index(node)
                self._connected.set()
                return
            except (aiohttp.ClientError, OSError, TypeError, AssertionError, asyncio.TimeoutError) as exc:
                last = exc
                await asyncio.sleep(0.1)
        raise AssertionError(f"could not reconnect: {last!r}")

    async def start(self) -> None:
        await self.connect()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            assert self.ws is not None
            msg = await self.ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                frame = json.loads(msg.data)
                if frame["type"] == "message":
                    self.seqs.append(frame["message"]["seq"])
                    sent = self.sent_at.get(frame["message"]["client_id"] or "")
                    if sent is not None:
                        self.latencies.append(time.perf_counter() - sent)
                elif frame["type"] == "ack":
                    future = self.acks.pop(frame["ref"], None)
                    if future is not None and not future.done():
                        future.set_result(frame["message"])
                continue
            self._connected.clear()  # the node went away: move, catch up with `since`
            self.moves += 1
            await self.connect()

    async def send(self, client_id: str, content: str, timeout: float = 15.0) -> dict[str, Any]:
        """Until acknowledged: a resend after a move carries the same client_id (no double)."""
        deadline = time.monotonic() + timeout
        while True:
            await asyncio.wait_for(self._connected.wait(), max(0.1, deadline - time.monotonic()))
            future = self.acks[client_id] = asyncio.get_running_loop().create_future()
            self.sent_at.setdefault(client_id, time.perf_counter())
            try:
                assert self.ws is not None
                await self.ws.send_json({"type": "message", "room": self.room, "content": content,
                                         "client_id": client_id, "ref": client_id})
                return await asyncio.wait_for(asyncio.shield(future), 2.0)
            except (ConnectionError, RuntimeError, asyncio.TimeoutError, aiohttp.ClientError):
                if time.monotonic() > deadline:
                    raise

    async def wait_for(self, count: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while len(self.seqs) < count:
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self.ws is not None:
            await self.ws.close()
