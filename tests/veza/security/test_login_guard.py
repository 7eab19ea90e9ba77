"""Brute-force guard: failed logins per account and per IP, then 429 until the window ends."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import PASSWORD, ApiClient
from veza.app import create_app
from veza.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(login_max_failures=3, trusted_proxies=("127.0.0.1",))


def _from(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


async def test_account_locks_after_failures_even_with_the_right_password(client: ApiClient) -> None:
    user = await client.register()
    for i in range(3):
        wrong = await client.post("/auth/login", json={"email": user.email, "password": "Wrong-Passw0rd!"},
                                  headers=_from(f"192.0.2.{i}"))
        assert wrong.status == 401
    locked = await client.post("/auth/login", json={"email": user.email.upper(), "password": PASSWORD},
                               headers=_from("192.0.2.99"))
    assert locked.status == 429 and locked.body["code"] == "rate_limited"
    assert int(locked.headers["Retry-After"]) > 0


async def test_ip_locks_after_failures_across_accounts(client: ApiClient) -> None:
    victim = await client.register()
    for i in range(3):
        await client.post("/auth/login", json={"email": f"spray{i}@example.com", "password": "x"}, headers=_from("192.0.2.50"))
    blocked = await client.post("/auth/login", json={"email": victim.email, "password": PASSWORD}, headers=_from("192.0.2.50"))
    assert blocked.status == 429
    other_ip = await client.post("/auth/login", json={"email": victim.email, "password": PASSWORD}, headers=_from("192.0.2.51"))
    assert other_ip.status == 200


async def test_success_clears_the_account_count(client: ApiClient) -> None:
    user = await client.register()
    for round_ in range(2):
        for i in range(2):
            await client.post("/auth/login", json={"email": user.email, "password": "bad"},
                              headers=_from(f"192.0.2.{10 * round_ + i + 100}"))
        ok = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD},
                               headers=_from(f"192.0.2.{200 + round_}"))
        assert ok.status == 200


async def test_concurrent_guesses_cannot_outrun_the_count(client: ApiClient) -> None:
    """Each guess counts before its password is checked: a burst gets no more than the limit."""
    user = await client.register()
    replies = await asyncio.gather(*(
        client.post("/auth/login", json={"email": user.email, "password": f"Wrong-{i}-Passw0rd!"},
                    headers=_from(f"192.0.2.{i}"))
        for i in range(20)))
    assert sorted(r.status for r in replies) == [401] * 3 + [429] * 17


async def test_successful_logins_do_not_count_against_the_ip(client: ApiClient) -> None:
    user = await client.register()
    for _ in range(5):
        ok = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD}, headers=_from("192.0.2.60"))
        assert ok.status == 200
    wrong = await client.post("/auth/login", json={"email": "someone@example.com", "password": "x"},
                              headers=_from("192.0.2.60"))
    assert wrong.status == 401


async def test_guard_is_shared_across_nodes_with_redis(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    if settings.redis_url is None:
        pytest.skip("REDIS_URL not set")
    node_a = ApiClient(await aiohttp_client(create_app(settings)))
    node_b = ApiClient(await aiohttp_client(create_app(settings)))
    user = await node_a.register()
    for node in (node_a, node_b, node_a):
        await node.post("/auth/login", json={"email": user.email, "password": "bad"}, headers=_from("192.0.2.77"))
    assert (await node_b.post("/auth/login", json={"email": user.email, "password": PASSWORD},
                              headers=_from("192.0.2.78"))).status == 429


async def test_registrations_are_limited_per_ip(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """Each registration costs an argon2id hash, and auth routes are outside the request limiter."""
    client = ApiClient(await aiohttp_client(create_app(settings.replace(register_max_per_ip=3))))

    async def register(n: int, ip: str):  # type: ignore[no-untyped-def]
        name = f"reg{n}_{ip.replace('.', '_')}"
        return await client.post("/auth/register", json={"username": name, "email": f"{name}@example.com",
                                                         "password": PASSWORD}, headers=_from(ip))

    assert [(await register(i, "192.0.2.70")).status for i in range(3)] == [201] * 3
    refused = await register(3, "192.0.2.70")
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.body["details"]["max_registrations"] == 3
    assert (await register(4, "192.0.2.71")).status == 201  # another address is not held back
    bad = await client.post("/auth/register", json={"username": "x"}, headers=_from("192.0.2.72"))
    assert bad.status == 400  # refused before it costs anything: not counted
    for n in range(3):
        assert (await register(10 + n, "192.0.2.72")).status == 201
