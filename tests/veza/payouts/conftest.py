"""Payout tests: the app pointed at a local fake of Stripe Connect, on a fake clock."""

from __future__ import annotations

import datetime as dt

import pytest
from aiohttp import web

from tests.fakes.stripe import API_KEY, FakeStripe
from tests.support import ApiClient
from veza import keys
from veza.app import create_app
from veza.config import Settings
from veza.domain.payouts import Timing


class FakeClock:
    """The payout rules' time: it moves only when a test says so. It starts a few minutes
    ahead of the database's clock, so what the marketplace stamps with now() (a refund's
    reversal, due at once) is in its past."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake_stripe(aiohttp_server) -> FakeStripe:  # type: ignore[no-untyped-def]
    fake = FakeStripe()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def stripe_settings(settings: Settings, fake_stripe: FakeStripe) -> Settings:
    return settings.replace(stripe_secret_key=API_KEY, stripe_api_base=fake_stripe.base_url,  # type: ignore[attr-defined]
                            stripe_webhook_secret=fake_stripe.webhook_secret, stripe_timeout=0.5, transfer_lease=2.0,
                            transfer_poll_interval=3600.0, transfer_retry_base=30.0, transfer_retry_cap=3600.0,
                            transfer_max_retries=3)


@pytest.fixture
def stripe_app(stripe_settings: Settings, clock: FakeClock) -> web.Application:
    app = create_app(stripe_settings)
    app[keys.payout_timing] = Timing(clock=clock, jitter=lambda: 0.0)
    return app


@pytest.fixture
async def stripe_client(aiohttp_client, stripe_app: web.Application) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(await aiohttp_client(stripe_app))
