"""Onboarding, account state from Stripe's events, balances and a seller's transfers,
against the local fake of Stripe Connect."""

from __future__ import annotations

import asyncio

from tests.fakes.stripe import FakeStripe
from tests.support import ApiClient
from tests.veza.api.market_helpers import seller_with_product
from veza import keys
from tests.veza.payouts.helpers import account_of, buy, deliver_account, onboard, onboarded_seller, run_worker, transfers_of


async def test_onboarding_creates_the_account_once_and_a_fresh_link_each_time(stripe_client: ApiClient,
                                                                              fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller = await client.register(role="creator")
    first, second = await asyncio.gather(client.post("/sell/connect/onboard", user=seller),
                                         client.post("/sell/connect/onboard", user=seller))
    third = await client.post("/sell/connect/onboard", user=seller)
    urls = {r.data["onboarding_url"] for r in (first, second, third)}
    assert len(urls) == 3 and all(u.startswith("https://connect.stripe.com/") for u in urls)
    mine = [a for a in fake_stripe.accounts.values() if a["metadata"].get("user_id") == seller.id]
    assert len(mine) == 1 and mine[0]["type"] == "express" and mine[0]["email"] == seller.email
    status = await client.get("/sell/connect/status", user=seller)
    assert status.data == {"connected": True, "provider": "stripe", "account_id": mine[0]["id"],
                           "charges_enabled": False, "payouts_enabled": False, "details_submitted": False}


async def test_onboarding_is_for_creators(stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    user = await stripe_client.register()
    reply = await stripe_client.post("/sell/connect/onboard", user=user)
    assert reply.status == 403 and reply.body["code"] == "forbidden"
    assert fake_stripe.accounts == {}
    assert (await stripe_client.post("/sell/connect/onboard")).status == 401


async def test_account_updated_syncs_the_account_once_and_never_backwards(stripe_client: ApiClient,
                                                                          fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller = await client.register(role="creator")
    account_id = await onboard(client, fake_stripe, seller, enable=False)
    fake_stripe.enable(account_id)
    body = fake_stripe.account_event(account_id, created=2_000_000_000, event_id="evt_enable")
    url = str(client.raw.make_url("/api/v1/webhooks/stripe"))
    assert (await fake_stripe.deliver(url, body))[1]["data"]["outcome"] == "applied"
    assert (await fake_stripe.deliver(url, body))[1]["data"]["outcome"] == "replay"
    fake_stripe.reject(account_id)  # an older snapshot arriving late changes nothing
    assert (await deliver_account(client, fake_stripe, account_id, created=1_900_000_000))[1]["data"]["outcome"] == "ignored"
    status = (await client.get("/sell/connect/status", user=seller)).data
    assert status["payouts_enabled"] and status["charges_enabled"] and status["details_submitted"]


async def test_the_webhook_refuses_what_stripe_did_not_sign(stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller = await client.register(role="creator")
    account_id = await onboard(client, fake_stripe, seller, enable=False)
    fake_stripe.enable(account_id)
    body = fake_stripe.account_event(account_id)
    url = str(client.raw.make_url("/api/v1/webhooks/stripe"))
    for signature in ("", "t=1,v1=00", "garbage", "t=1700000000,v1=" + "0" * 64):
        status, reply = await fake_stripe.deliver(url, body, signature=signature)
        assert status == 400 and reply["success"] is False, (signature, reply)
    from veza.services.stripe_connect.signing import signature_header
    stale = signature_header(fake_stripe.webhook_secret, body, timestamp=1_000_000_000)
    assert (await fake_stripe.deliver(url, body, signature=stale))[0] == 400
    wrong_key = signature_header("whsec_other", body)
    assert (await fake_stripe.deliver(url, body, signature=wrong_key))[0] == 400
    async with client.app[keys.db].connection() as conn:
        assert await conn.fetchval("SELECT payouts_enabled FROM seller_accounts WHERE account_id = $1", account_id) is False
    ignored = b'{"id": "evt_x", "type": "charge.succeeded", "created": 1, "data": {"object": {"id": "ch_1"}}}'
    assert (await fake_stripe.deliver(url, ignored))[1]["data"]["outcome"] == "ignored"
    status, reply = await fake_stripe.deliver(url, b'{"id": 5}')
    assert status == 400 and reply["success"] is False


async def test_the_seller_returning_from_onboarding_reads_the_account_from_stripe(stripe_client: ApiClient,
                                                                                  fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller = await client.register(role="creator")
    account_id = await onboard(client, fake_stripe, seller, enable=False)
    fake_stripe.enable(account_id)  # no event delivered: the status call asks Stripe
    assert (await client.get("/sell/connect/status", user=seller)).data["payouts_enabled"] is True
    calls = fake_stripe.calls[f"GET /v1/accounts/{account_id}"]
    await client.get("/sell/connect/status", user=seller)  # enabled: no more calls
    assert fake_stripe.calls[f"GET /v1/accounts/{account_id}"] == calls


async def test_balance_is_stripes_for_the_platform_currency_and_cached(stripe_client: ApiClient,
                                                                       fake_stripe: FakeStripe) -> None:
    client = stripe_client
    nobody = await client.register()
    assert (await client.get("/sell/balance", user=nobody)).data == {"connected": False, "available": 0, "pending": 0,
                                                                     "currency": "EUR"}
    seller, product, account_id = await onboarded_seller(client, fake_stripe, price_cents=2999)
    await buy(client, product)
    await run_worker(client)
    fake_stripe.pending[account_id] = 3200
    replies = await asyncio.gather(*(client.get("/sell/balance", user=seller) for _ in range(20)))
    assert {r.status for r in replies} == {200}
    assert replies[0].data == {"connected": True, "available": 2699, "pending": 3200, "currency": "EUR"}
    for _ in range(5):
        await client.get("/sell/balance", user=seller)
    assert fake_stripe.calls["GET /v1/balance"] == 1
    assert (await client.get("/sell/balance")).status == 401


async def test_balance_when_stripe_is_down_is_a_503_not_a_500(stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller, _, _ = await onboarded_seller(client, fake_stripe)
    fake_stripe.fail("/v1/balance", "500")
    reply = await client.get("/sell/balance", user=seller)
    assert reply.status == 503 and reply.body["success"] is False
    fake_stripe.fail("/v1/balance", "429")
    assert (await client.get("/sell/balance", user=seller)).status == 503
    assert (await client.get("/sell/balance", user=seller)).status == 200


async def test_sellers_see_only_their_own_transfers_newest_first(stripe_client: ApiClient,
                                                                 fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller, product, _ = await onboarded_seller(client, fake_stripe, price_cents=1000)
    other, other_product = await seller_with_product(client, price_cents=500)
    orders = [(await buy(client, product))[1] for _ in range(3)]
    await buy(client, other_product)
    mine = await transfers_of(client, seller)
    assert [t["order_id"] for t in mine] == [o["id"] for o in reversed(orders)]
    assert {(t["amount_cents"], t["platform_fee_cents"], t["currency"], t["status"]) for t in mine} == {
        (900, 100, "EUR", "pending")}
    page = await client.get("/sell/transfers?limit=2&offset=1", user=seller)
    assert page.data["total"] == 3 and [t["order_id"] for t in page.data["transfers"]] == [orders[1]["id"], orders[0]["id"]]
    assert (await client.get("/sell/transfers?status=completed", user=seller)).data == {"transfers": [], "total": 0}
    assert len(await transfers_of(client, other)) == 1
    for bad in ("status=paid", "limit=0", "limit=101", "offset=-1", "limit=x"):
        reply = await client.get(f"/sell/transfers?{bad}", user=seller)
        assert reply.status == 400 and reply.body["success"] is False, bad
    assert account_of(fake_stripe, seller)
