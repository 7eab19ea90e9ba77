"""SESSIONS_MAX_PER_USER: a login past the cap ends the user's oldest live sessions."""

from __future__ import annotations

import asyncio
import uuid

import jwt
import pytest

from protocols import frames
from tests.support import PASSWORD, ApiClient, User
from tests.veza.cluster.test_nodes import closed_with
from veza import keys
from veza.app import create_app
from veza.config import Settings


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings.replace(sessions_max_per_user=3))


async def _login(client: ApiClient, user: User) -> User:
    reply = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return User(user.id, user.username, user.email, reply.data["access_token"], reply.data["refresh_token"])


def _sid(user: User) -> str:
    return jwt.decode(user.access_token, options={"verify_signature": False})["sid"]


async def test_the_oldest_sessions_make_room_and_their_sockets_close(client: ApiClient) -> None:
    first = await client.register()  # session 1
    socket = await client.ws(first)
    heard: list[list[str]] = []

    async def listener(user_id, session_ids, keep) -> None:  # type: ignore[no-untyped-def]
        heard.append([str(s) for s in session_ids or ()])

    client.app[keys.session_events].subscribe(listener)
    second, third = await _login(client, first), await _login(client, first)
    assert (await client.get("/sessions", user=first)).data["total"] == 3
    fourth = await _login(client, first)
    listed = (await client.get("/sessions", user=fourth)).data
    assert listed["total"] == 3
    assert {s["id"] for s in listed["sessions"]} == {_sid(second), _sid(third), _sid(fourth)}
    assert heard == [[_sid(first)]]
    assert (await client.get("/users/me", user=first)).status == 401
    assert (await client.post("/auth/refresh", json={"refresh_token": first.refresh_token})).status == 401
    assert await closed_with(socket) == frames.CLOSE_UNAUTHORIZED
    assert (await client.get("/users/me", user=second)).status == 200
    other = await client.register()
    assert (await client.get("/sessions", user=other)).data["total"] == 1  # per user


async def test_concurrent_logins_never_leave_more_than_the_cap(client: ApiClient) -> None:
    user = await client.register()
    await asyncio.gather(*(_login(client, user) for _ in range(8)))
    async with client.app[keys.db].connection() as conn:
        live = await conn.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                                   uuid.UUID(user.id))
    assert live == 3


def test_the_cap_setting() -> None:
    assert Settings.from_env({}).sessions_max_per_user == 50
    assert Settings.from_env({"SESSIONS_MAX_PER_USER": "5"}).sessions_max_per_user == 5
