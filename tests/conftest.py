"""One fixture builds the real app from test settings against a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.db import TestDatabase
from tests.redis_server import RedisProcess
from tests.support import ApiClient
from veza.app import create_app
from veza.config import Settings


# Servers the tests start as processes (tests/server_process.py, tests/cluster_support.py,
# test_serve) inherit this: every test registers its users from 127.0.0.1.
os.environ.setdefault("REGISTER_MAX_PER_IP", "1000000")


@pytest.fixture(scope="session")
def test_database() -> Iterator[TestDatabase]:
    with TestDatabase() as db:
        yield db


_OWN_REDIS = pytest.StashKey[RedisProcess]()


def pytest_configure(config: pytest.Config) -> None:
    """Without REDIS_URL, a Redis of the run's own, started before any test module is
    imported and exported as REDIS_URL: the modules that read it at import, and the tests
    that want "a Redis" (counters shared by two nodes, limits across nodes), then run on
    the embedded path exactly as they do in CI instead of skipping. Servers the tests spawn
    choose for themselves (tests/server_process.py drops REDIS_URL)."""
    if os.environ.get("REDIS_URL"):
        return
    server = RedisProcess().start()
    config.stash[_OWN_REDIS] = server
    os.environ["REDIS_URL"] = server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_OWN_REDIS, None)
    if server is not None:
        os.environ.pop("REDIS_URL", None)
        server.__exit__()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """REDIS_URL: the machine's (CI runs Redis 7) or the run's own (`pytest_configure`)."""
    return os.environ["REDIS_URL"]


@pytest.fixture
def redis_prefix() -> str:
    """A prefix of this test's own: parallel runs on one Redis never hear each other."""
    return f"veza-test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def settings(test_database: TestDatabase, tmp_path: Path, redis_url: str, redis_prefix: str) -> Settings:
    return Settings(
        app_env="test",
        database_url=test_database.dsn,
        db_pool_min=1,
        db_pool_max=10,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        jwt_secret="test-secret-" + "x" * 40,
        hyperswitch_webhook_secret="test-webhook-secret-" + "w" * 40,  # no secret file in data_dir
        stripe_webhook_secret="whsec_test_" + "s" * 40,
        # Cheap argon2id so hundreds of registrations stay fast; still the real code path.
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        data_dir=tmp_path,
        # Counters of parallel test runs sharing one Redis must not meet; limits stay out
        # of the way of other suites (the rate-limit tests set their own).
        rate_limit_key_prefix=f"veza-test:{uuid.uuid4().hex}:",
        rate_limit_global=100_000,
        rate_limit_per_ip=10_000,
        register_max_per_ip=1_000_000,  # every test registers from 127.0.0.1
    )


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(settings)


@pytest.fixture
async def client(aiohttp_client, app: web.Application) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(await aiohttp_client(app))
