"""Helpers for tests: an API client that speaks the envelope, and unique user factories."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

PASSWORD = "SecureP@ssw0rd"


@dataclass
class User:
    id: str
    username: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    @property
    def data(self) -> Any:
        assert isinstance(self.body, dict) and self.body.get("success") is True, self.body
        return self.body["data"]


class ApiClient:
    """Thin wrapper over aiohttp's TestClient: JSON in, (status, parsed body) out."""

    def __init__(self, raw: TestClient) -> None:
        self.raw = raw
        self.app = raw.server.app

    async def call(self, method: str, path: str, *, user: User | None = None, token: str | None = None,
                   headers: dict[str, str] | None = None, **kwargs: Any) -> Reply:
        hdrs = dict(headers or {})
        if user is not None:
            hdrs.update(user.headers)
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        # Paths are relative to /api/v1 unless they name another root ("/api/...", "/swagger", ...).
        url = path if path.startswith(("/api/", "/swagger", "/static", "/ws")) else "/api/v1" + path
        async with self.raw.request(method, url, headers=hdrs, **kwargs) as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = await resp.json() if "json" in ctype else await resp.read()
            return Reply(resp.status, body, resp.headers)

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Reply:
        return await self.call("POST", path, **kw)

    async def put(self, path: str, **kw: Any) -> Reply:
        return await self.call("PUT", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.call("DELETE", path, **kw)

    async def register(self, *, role: str | None = None, username: str | None = None) -> User:
        """A fresh user; a creator registers as one, an admin is promoted in the database
        (the role is read from there on every request, so its tokens carry it at once)."""
        suffix = uuid.uuid4().hex[:10]
        name = username or f"user_{suffix}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        if role == "creator":
            body["role"] = "creator"
        reply = await self.post("/auth/register", json=body)
        assert reply.status == 201, reply.body
        data = reply.data
        user = User(data["user"]["id"], name, data["user"]["email"], data["access_token"], data["refresh_token"])
        if role not in (None, "user", "creator"):
            from veza import keys
            from veza.store.users import set_role

            async with self.app[keys.db].connection() as conn:
                await set_role(conn, uuid.UUID(user.id), role)
        return user

    async def chat_token(self, user: User) -> str:
        reply = await self.get("/chat/token", user=user)
        assert reply.status == 200, reply.body
        return reply.data["token"]

    async def ws(self, user: User | None = None, *, path: str = "/api/v1/ws", **kwargs: Any) -> Any:
        """A WebSocket to the gateway, signed in as `user` (chat token in the query) or anonymous."""
        params = {"token": await self.chat_token(user)} if user is not None else None
        return await self.raw.ws_connect(path, params=params, **kwargs)
