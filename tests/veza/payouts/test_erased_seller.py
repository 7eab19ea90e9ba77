"""A seller who erases their account is still paid what they earned (0910): the transfers
still owed keep the connected account, the worker pays or resolves them; what could never
be paid (no account able to receive payouts) is canceled at erasure, with the reason."""

from __future__ import annotations

from tests.fakes.stripe import FakeStripe
from tests.support import PASSWORD, ApiClient, User
from tests.veza.payouts.conftest import FakeClock
from tests.veza.payouts.helpers import admin_transfer, buy, onboarded_seller, run_worker, transfers_of


async def _erase(client: ApiClient, seller: User) -> None:
    reply = await client.delete("/users/me", user=seller, json={"password": PASSWORD})
    assert reply.status == 200, reply.body


async def test_an_erased_sellers_pending_transfer_is_still_paid_to_their_account(
        stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller, product, account_id = await onboarded_seller(client, fake_stripe, price_cents=2999)
    await buy(client, product)
    (transfer,) = await transfers_of(client, seller)
    admin = await client.register(role="admin")
    await _erase(client, seller)

    await run_worker(client)
    await run_worker(client)
    (paid,) = fake_stripe.transfers.values()
    assert (paid["amount"], paid["destination"]) == (2699, account_id)
    row = await admin_transfer(client, admin, transfer["id"])
    assert (row["status"], row["seller_id"], row["provider_transfer_id"]) == ("completed", None, paid["id"])


async def test_a_transfer_in_doubt_at_erasure_is_looked_up_and_paid_once(
        stripe_client: ApiClient, fake_stripe: FakeStripe, clock: FakeClock) -> None:
    client = stripe_client
    seller, product, account_id = await onboarded_seller(client, fake_stripe)
    await buy(client, product)
    (transfer,) = await transfers_of(client, seller)
    admin = await client.register(role="admin")
    fake_stripe.fail("/v1/transfers", "commit_500")  # paid at Stripe, but we are told 500
    await run_worker(client)
    assert (await admin_transfer(client, admin, transfer["id"]))["status"] == "failed"
    await _erase(client, seller)

    clock.advance(3600)
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert row["status"] == "completed" and len(fake_stripe.transfers) == 1
    assert fake_stripe.calls["POST /v1/transfers"] == 1 and fake_stripe.calls["GET /v1/transfers"] == 1
    assert next(iter(fake_stripe.transfers.values()))["destination"] == account_id


async def test_earnings_that_could_never_be_paid_are_canceled_at_erasure_with_the_reason(
        stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller, product, _ = await onboarded_seller(client, fake_stripe, enable=False)  # payouts never enabled
    await buy(client, product)
    (transfer,) = await transfers_of(client, seller)
    assert transfer["status"] == "pending"
    admin = await client.register(role="admin")
    await _erase(client, seller)

    row = await admin_transfer(client, admin, transfer["id"])
    assert (row["status"], row["seller_id"], row["next_retry_at"]) == ("canceled", None, None)
    assert row["last_error"] == "the seller's account was erased before it could receive payouts"
    await run_worker(client)
    assert fake_stripe.transfers == {}
    assert (await admin_transfer(client, admin, transfer["id"]))["status"] == "canceled"
