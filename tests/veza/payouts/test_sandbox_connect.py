"""`veza serve` without STRIPE_SECRET_KEY: the sandbox Connect runs sale -> payout ->
balance -> refund -> reversal on one machine, through the same worker and webhook."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from tests.support import ApiClient, User
from tests.veza.api.market_helpers import seller_with_product, wait_for_status
from tests.veza.payouts.helpers import buy, transfers_of
from veza.app import create_app
from veza.config import ConfigError, Settings


@pytest.fixture
def sandbox_app(settings: Settings) -> web.Application:
    return create_app(settings.replace(transfer_poll_interval=0.05))


@pytest.fixture
async def sandbox_client(aiohttp_client, sandbox_app: web.Application) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient(await aiohttp_client(sandbox_app))


async def _enable(client: ApiClient, seller: User) -> dict[str, Any]:
    url = (await client.post("/sell/connect/onboard", user=seller)).data["onboarding_url"]
    parts = urlsplit(url)
    assert parts.path == "/static/connect-sandbox.html"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["return_url"].endswith("/static/sell.html?onboarding=return")
    bad = await client.post(f"/sandbox/connect/accounts/{query['account']}/enable",
                            json={"expires": query["expires"], "signature": "0" * 64})
    assert bad.status == 404
    other = await client.post("/sandbox/connect/accounts/acct_sbx_other/enable",
                              json={"expires": query["expires"], "signature": query["signature"]})
    assert other.status == 404  # a link enables the one account it was made for
    page = await client.call("GET", f"{parts.path}?{parts.query}")
    assert page.status == 200 and b"connect-sandbox.js" in page.body
    reply = await client.post(f"/sandbox/connect/accounts/{query['account']}/enable",
                              json={"expires": query["expires"], "signature": query["signature"]})
    assert reply.status == 200 and reply.data["payouts_enabled"] is True
    return query


async def _wait_for(client: ApiClient, seller: User, status: str) -> dict[str, Any]:
    for _ in range(400):
        (transfer,) = await transfers_of(client, seller)
        if transfer["status"] == status:
            return transfer
        await asyncio.sleep(0.025)
    raise AssertionError(f"transfer stayed {transfer['status']}, wanted {status}")


async def test_sale_payout_balance_and_reversal_in_the_sandbox(sandbox_client: ApiClient) -> None:
    client = sandbox_client
    seller, product = await seller_with_product(client, price_cents=2999)
    assert (await client.get("/sell/balance", user=seller)).data["connected"] is False
    query = await _enable(client, seller)
    # The sandbox's signed account.updated reached our own webhook: the stored account is enabled.
    status = (await client.get("/sell/connect/status", user=seller)).data
    assert status == {"connected": True, "provider": "sandbox", "account_id": query["account"],
                      "charges_enabled": True, "payouts_enabled": True, "details_submitted": True}
    buyer, order = await buy(client, product)
    transfer = await _wait_for(client, seller, "completed")
    assert (transfer["amount_cents"], transfer["platform_fee_cents"]) == (2699, 300)
    balance = (await client.get("/sell/balance", user=seller)).data
    assert balance == {"connected": True, "available": 2699, "pending": 0, "currency": "EUR"}
    sales = (await client.get("/sell/sales", user=seller)).data
    assert [(d["orders"], d["gross_cents"], d["net_cents"]) for d in sales["days"]] == [(1, 2999, 2699)]
    reply = await client.post(f"/marketplace/orders/{order['id']}/refund", user=buyer, json={"reason": "duplicate"})
    assert reply.status == 200
    await wait_for_status(client, buyer, order["id"], "refunded")
    await _wait_for(client, seller, "reversed")
    assert (await client.get("/sell/sales", user=seller)).data["days"] == []


async def test_a_seller_who_never_onboarded_waits_and_is_paid_once_enabled(sandbox_client: ApiClient) -> None:
    client = sandbox_client
    seller, product = await seller_with_product(client, price_cents=1000)
    await buy(client, product)
    await asyncio.sleep(0.2)  # several worker rounds: no account, nothing is paid
    assert (await transfers_of(client, seller))[0]["status"] == "pending"
    await _enable(client, seller)
    assert (await _wait_for(client, seller, "completed"))["amount_cents"] == 900


def test_production_refuses_to_start_without_a_stripe_key_naming_it() -> None:
    env = {"APP_ENV": "production", "JWT_SECRET": "s" * 40, "DATABASE_URL": "postgresql://db/veza",
           "PAYMENTS_PROVIDER": "hyperswitch", "HYPERSWITCH_API_KEY": "k", "HYPERSWITCH_WEBHOOK_SECRET": "w" * 40}
    with pytest.raises(ConfigError, match="^STRIPE_SECRET_KEY"):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match="^STRIPE_WEBHOOK_SECRET"):
        Settings.from_env({**env, "STRIPE_SECRET_KEY": "sk_live_x"})
    assert Settings.from_env({**env, "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}).production
