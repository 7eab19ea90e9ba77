"""REFRESH_REUSE_GRACE: two tabs refreshing at once both keep the session (the second
gets the pair the first got); a spent token presented after the grace is reuse and
revokes the session."""

from __future__ import annotations

import asyncio
import uuid

import jwt
import pytest

from tests.support import ApiClient
from veza import keys
from veza.app import create_app
from veza.config import ConfigError, Settings


async def age_rotation(client: ApiClient, access_token: str, seconds: float = 3600) -> None:
    """Move the session's last rotation `seconds` into the past: the grace is over."""
    sid = uuid.UUID(jwt.decode(access_token, options={"verify_signature": False})["sid"])
    async with client.app[keys.db].connection() as conn:
        await conn.execute("UPDATE sessions SET rotated_at = rotated_at - make_interval(secs => $2) WHERE id = $1",
                           sid, seconds)


async def _refresh(client: ApiClient, token: str):  # type: ignore[no-untyped-def]
    return await client.post("/auth/refresh", json={"refresh_token": token})


async def test_two_tabs_refreshing_at_once_both_get_the_same_new_pair(client: ApiClient) -> None:
    user = await client.register()
    first, second = await asyncio.gather(_refresh(client, user.refresh_token), _refresh(client, user.refresh_token))
    assert first.status == second.status == 200, (first.body, second.body)
    assert first.data["refresh_token"] == second.data["refresh_token"] != user.refresh_token
    assert first.data["access_token"] == second.data["access_token"]
    assert 0 < second.data["expires_in"] <= first.data["expires_in"] <= 3600
    assert (await client.get("/users/me", token=second.data["access_token"])).status == 200
    # The session goes on from the shared pair.
    onward = await _refresh(client, second.data["refresh_token"])
    assert onward.status == 200
    assert (await client.get("/users/me", token=onward.data["access_token"])).status == 200


async def test_a_late_second_tab_within_the_grace_gets_the_same_pair(client: ApiClient) -> None:
    user = await client.register()
    first = await _refresh(client, user.refresh_token)
    # A second or more later (tokens count whole seconds): the pair is derived again from
    # the rotation's own second, not from now, so it is the same one.
    await asyncio.sleep(1.1)
    again = await _refresh(client, user.refresh_token)
    assert again.status == 200
    assert (again.data["access_token"], again.data["refresh_token"]) == (first.data["access_token"],
                                                                          first.data["refresh_token"])
    cookie = again.headers.getall("Set-Cookie")
    assert any(first.data["refresh_token"] in c for c in cookie)


async def test_reuse_after_the_grace_revokes_the_session_and_closes_its_sockets(client: ApiClient) -> None:
    user = await client.register()
    heard: list[tuple] = []

    async def listener(user_id, session_ids, keep) -> None:  # type: ignore[no-untyped-def]
        heard.append((str(user_id), [str(s) for s in session_ids or ()]))

    client.app[keys.session_events].subscribe(listener)
    first = await _refresh(client, user.refresh_token)
    await age_rotation(client, first.data["access_token"], seconds=11)
    reuse = await _refresh(client, user.refresh_token)
    assert reuse.status == 401 and "already used" in reuse.body["error"]
    sid = jwt.decode(first.data["access_token"], options={"verify_signature": False})["sid"]
    assert heard == [(user.id, [sid])]
    assert (await _refresh(client, first.data["refresh_token"])).status == 401
    assert (await client.get("/users/me", token=first.data["access_token"])).status == 401


async def test_only_the_token_just_replaced_has_a_grace(client: ApiClient) -> None:
    """Two rotations later the first token is plain reuse, even within seconds."""
    user = await client.register()
    first = await _refresh(client, user.refresh_token)
    second = await _refresh(client, first.data["refresh_token"])
    assert second.status == 200
    stale = await _refresh(client, user.refresh_token)
    assert stale.status == 401
    assert (await client.get("/users/me", token=second.data["access_token"])).status == 401


async def test_a_zero_grace_is_the_old_strict_rotation(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = ApiClient(await aiohttp_client(create_app(settings.replace(refresh_reuse_grace=0))))
    user = await client.register()
    first = await _refresh(client, user.refresh_token)
    assert (await _refresh(client, user.refresh_token)).status == 401
    assert (await client.get("/users/me", token=first.data["access_token"])).status == 401


def test_the_grace_setting() -> None:
    assert Settings.from_env({}).refresh_reuse_grace == 10.0
    assert Settings.from_env({"REFRESH_REUSE_GRACE": "0"}).refresh_reuse_grace == 0
    with pytest.raises(ConfigError, match="REFRESH_REUSE_GRACE"):
        Settings.from_env({"REFRESH_REUSE_GRACE": "-1"})
