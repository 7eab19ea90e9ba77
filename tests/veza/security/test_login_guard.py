"""Brute-force guard: failures per account + address, per address, and per account (with
growing delays and a ceiling that spare addresses the owner signed in from before)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support import PASSWORD, ApiClient, User
from veza.app import create_app
from veza.config import Settings
from veza.security.login_guard import LoginLimits


@pytest.fixture(params=["redis", "memory"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Both counter stores: Redis (shared by nodes) and one node's memory."""
    return settings.replace(login_max_failures=3, login_max_failures_per_ip=6, login_max_failures_per_account=8,
                            login_delay_after=100, trusted_proxies=("127.0.0.1",),
                            redis_url=settings.redis_url if request.param == "redis" else None)


def _from(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


async def _login(client: ApiClient, email: str, ip: str, password: str = "Wrong-Passw0rd!"):  # type: ignore[no-untyped-def]
    return await client.post("/auth/login", json={"email": email, "password": password}, headers=_from(ip))


async def _fail_from_many(client: ApiClient, user: User, n: int, net: str = "198.51.100") -> list[int]:
    return [(await _login(client, user.email, f"{net}.{i}")).status for i in range(n)]


async def test_an_attackers_address_is_held_back_and_the_owner_elsewhere_is_not(client: ApiClient) -> None:
    user = await client.register()
    assert [(await _login(client, user.email, "192.0.2.1")).status for _ in range(3)] == [401] * 3
    locked = await _login(client, user.email.upper(), "192.0.2.1", PASSWORD)
    assert locked.status == 429 and locked.body["code"] == "rate_limited"
    assert locked.body["details"]["reason"] == "account_address" and int(locked.headers["Retry-After"]) > 0
    # The owner, from an address this account has never seen, is not locked out.
    assert (await _login(client, user.email, "192.0.2.2", PASSWORD)).status == 200


async def test_an_address_spraying_accounts_is_held_back(client: ApiClient) -> None:
    victim = await client.register()
    for i in range(6):
        assert (await _login(client, f"spray{i}@example.com", "192.0.2.50", "x")).status == 401
    blocked = await _login(client, victim.email, "192.0.2.50", PASSWORD)
    assert blocked.status == 429 and blocked.body["details"]["reason"] == "address"
    assert (await _login(client, victim.email, "192.0.2.51", PASSWORD)).status == 200


async def test_many_addresses_meet_the_accounts_ceiling_but_not_its_known_addresses(client: ApiClient) -> None:
    user = await client.register()
    assert (await _login(client, user.email, "192.0.2.80", PASSWORD)).status == 200  # the owner's usual address
    assert await _fail_from_many(client, user, 8) == [401] * 8
    refused = await _login(client, user.email, "198.51.100.200", PASSWORD)
    assert refused.status == 429 and refused.body["details"]["reason"] == "account"
    assert (await _login(client, user.email, "192.0.2.80", PASSWORD)).status == 200


async def test_attempts_the_guard_refused_do_not_count(client: ApiClient) -> None:
    """An attacker hammering past its own limit cannot push the account to its ceiling."""
    user = await client.register()
    attempts = [(await _login(client, user.email, "192.0.2.9")).status for _ in range(30)]
    assert attempts == [401] * 3 + [429] * 27
    # 3 counted so far: five more addresses fit under the ceiling of 8, the next does not.
    assert await _fail_from_many(client, user, 6) == [401] * 5 + [429]


async def test_past_the_delay_threshold_attempts_on_the_account_are_spaced(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = ApiClient(await aiohttp_client(create_app(settings.replace(login_delay_after=4))))
    user = await client.register()
    assert (await _login(client, user.email, "192.0.2.80", PASSWORD)).status == 200
    # Four free failures, then one attempt per delay: the next one at once is told to wait.
    assert await _fail_from_many(client, user, 6) == [401] * 5 + [429]
    slowed = await _login(client, user.email, "198.51.100.99", PASSWORD)
    assert slowed.status == 429 and slowed.body["details"]["reason"] == "delay"
    assert int(slowed.headers["Retry-After"]) >= 1
    # The owner's known address is not slowed down.
    assert (await _login(client, user.email, "192.0.2.80", PASSWORD)).status == 200


def test_the_delays_grow_to_their_cap() -> None:
    limits = LoginLimits(delay_after=20, max_delay=60)
    assert [limits.delay(n) for n in (1, 20, 21, 22, 23, 24, 26, 27, 1000)] == [0, 0, 1, 2, 4, 8, 32, 60, 60]


async def test_concurrent_guesses_cannot_outrun_the_counts(client: ApiClient) -> None:
    """Each guess counts before its password is checked: a burst gets no more than a limit."""
    user = await client.register()
    one_address = await asyncio.gather(*(_login(client, user.email, "192.0.2.7", f"Wrong-{i}-Passw0rd!")
                                         for i in range(20)))
    assert sorted(r.status for r in one_address) == [401] * 3 + [429] * 17
    other = await client.register()
    many = await asyncio.gather(*(_login(client, other.email, f"203.0.113.{i}") for i in range(20)))
    assert sorted(r.status for r in many) == [401] * 8 + [429] * 12


async def test_successful_logins_do_not_count_against_the_address(client: ApiClient) -> None:
    user = await client.register()
    for _ in range(8):
        assert (await _login(client, user.email, "192.0.2.60", PASSWORD)).status == 200
    assert (await _login(client, "someone@example.com", "192.0.2.60", "x")).status == 401


async def test_a_success_clears_its_own_account_and_address_count(client: ApiClient) -> None:
    """Two typos then the right password, twice: four failures, never three in a row."""
    user = await client.register()
    for _ in range(2):
        assert [(await _login(client, user.email, "192.0.2.70")).status for _ in range(2)] == [401, 401]
        assert (await _login(client, user.email, "192.0.2.70", PASSWORD)).status == 200


async def test_guard_is_shared_across_nodes_with_redis(aiohttp_client, settings: Settings, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings.replace(redis_url=redis_url)
    node_a = ApiClient(await aiohttp_client(create_app(settings)))
    node_b = ApiClient(await aiohttp_client(create_app(settings)))
    user = await node_a.register()
    for node in (node_a, node_b, node_a):
        assert (await _login(node, user.email, "192.0.2.77")).status == 401
    assert (await _login(node_b, user.email, "192.0.2.77", PASSWORD)).status == 429
    assert (await _login(node_b, user.email, "192.0.2.78", PASSWORD)).status == 200


async def test_registrations_are_limited_per_ip(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """Each registration costs an argon2id hash, and auth routes are outside the request limiter."""
    client = ApiClient(await aiohttp_client(create_app(settings.replace(register_max_per_ip=3))))

    run = uuid.uuid4().hex[:6]

    async def register(n: int, ip: str):  # type: ignore[no-untyped-def]
        name = f"reg{n}_{run}_{ip.replace('.', '_')}"
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
