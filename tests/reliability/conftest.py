"""Real `veza serve` processes against the test session's PostgreSQL, and a REST helper."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.db import TestDatabase
from tests.server_process import ServerProcess
from tests.support import PASSWORD

# Tests send far faster than a person: lift the per-socket frame budget unless a test sets it.
FAST_CLIENT = {"WS_RATE": "100000", "WS_BURST": "100000"}


@pytest.fixture
def start_server(test_database: TestDatabase, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        server = ServerProcess(test_database.dsn, tmp_path / f"server-{len(started)}.log", **{**FAST_CLIENT, **env})
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


class Remote:
    """REST + WebSocket access to a running server, as its real clients use it."""

    def __init__(self, session: aiohttp.ClientSession, server: ServerProcess) -> None:
        self.session = session
        self.server = server

    def url(self, path: str, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.server.port}{path}"

    async def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(method, self.url("/api/v1" + path), headers=headers, **kwargs) as resp:
            body = await resp.json()
            assert body.get("success") is True, (resp.status, body)
            return body["data"]

    async def register(self) -> dict[str, str]:
        name = f"rel_{uuid.uuid4().hex[:10]}"
        data = await self.call("POST", "/auth/register",
                               json={"username": name, "email": f"{name}@example.com", "password": PASSWORD})
        return {"id": data["user"]["id"], "username": name, "token": data["access_token"]}

    async def public_room(self, owner: dict[str, str]) -> str:
        data = await self.call("POST", "/conversations", owner["token"], json={"name": "reliability", "type": "public"})
        return data["id"]

    async def ws(self, user: dict[str, str] | None, port: int | None = None, **kwargs: Any) -> aiohttp.ClientWebSocketResponse:
        params = {}
        if user is not None:
            params["token"] = (await self.call("GET", "/chat/token", user["token"]))["token"]
        return await self.session.ws_connect(self.url("/api/v1/ws", port), params=params, **kwargs)


@pytest.fixture
async def remote_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class FrameReader:
    """Reads a socket continuously (as every real client does) into a queue."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.close_code: int | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.put_nowait(msg.json())
        self.close_code = self.ws.close_code

    async def next(self, type_: str, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.frames.get(), timeout)
            if frame["type"] == type_:
                return frame

    async def close(self) -> None:
        await self.ws.close()
        await self.task


async def next_of(ws: aiohttp.ClientWebSocketResponse, type_: str, timeout: float = 10.0) -> dict[str, Any]:
    """The next frame of `type_`, skipping others (presence, typing, ...)."""
    while True:
        msg = await ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        frame = msg.json()
        if frame["type"] == type_:
            return frame
        assert frame["type"] != "error", frame
