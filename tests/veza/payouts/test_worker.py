"""The payout worker against the fake Stripe, on a fake clock: retries and their schedule,
unknown outcomes, a node dying mid-transfer, permanent failures, reversals."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from tests.fakes.stripe import FakeStripe
from tests.support import ApiClient, User
from tests.veza.api.market_helpers import wait_for_status
from tests.veza.payouts.conftest import FakeClock
from tests.veza.payouts.helpers import admin_transfer, buy, onboarded_seller, run_worker, transfers_of
from veza import keys
from veza.domain import payouts


async def _sold(client: ApiClient, fake: FakeStripe, price: int = 2999) -> tuple[User, dict[str, Any], str, User]:
    seller, product, account_id = await onboarded_seller(client, fake, price_cents=price)
    _, order = await buy(client, product)
    admin = await client.register(role="admin")
    (transfer,) = await transfers_of(client, seller)
    assert transfer["order_id"] == order["id"]
    return seller, transfer, account_id, admin


def _at(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


async def test_a_paid_order_pays_its_seller_exactly_once(stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller, transfer, account_id, admin = await _sold(client, fake_stripe)
    assert (transfer["amount_cents"], transfer["platform_fee_cents"], transfer["status"]) == (2699, 300, "pending")
    await run_worker(client)
    await run_worker(client)
    (paid,) = fake_stripe.transfers.values()
    assert (paid["amount"], paid["currency"], paid["destination"]) == (2699, "eur", account_id)
    assert paid["transfer_group"] == transfer["order_id"] and paid["metadata"]["transfer_id"] == transfer["id"]
    detail = await admin_transfer(client, admin, transfer["id"])
    assert detail["status"] == "completed" and detail["provider_transfer_id"] == paid["id"]
    assert [(a["kind"], a["outcome"], a["provider_id"]) for a in detail["attempts"]] == [("transfer", "succeeded", paid["id"])]


async def test_transient_failures_back_off_on_the_clock_then_pay_with_a_new_key(
        stripe_client: ApiClient, fake_stripe: FakeStripe, clock: FakeClock) -> None:
    client = stripe_client
    seller, transfer, _, admin = await _sold(client, fake_stripe)
    fake_stripe.fail("/v1/transfers", "balance_insufficient")
    fake_stripe.fail("/v1/transfers", "429")
    fake_stripe.fail("/v1/transfers", "500")  # indeterminate: its key is kept
    expected_waits = [15.0, 30.0, 60.0]  # base 30 s x 2^n, jitter 0 = the lower half
    for retry, wait in enumerate(expected_waits, start=1):
        start = clock()
        await run_worker(client)
        row = await admin_transfer(client, admin, transfer["id"])
        assert (row["status"], row["retry_count"]) == ("failed", retry)
        assert _at(row["next_retry_at"]) == start + dt.timedelta(seconds=wait)
        clock.advance(wait - 1)
        await run_worker(client)  # not due yet: nothing is attempted
        assert len((await admin_transfer(client, admin, transfer["id"]))["attempts"]) == retry
        clock.advance(1)
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert row["status"] == "completed" and row["retry_count"] == 3 and row["next_retry_at"] is None
    assert len(fake_stripe.transfers) == 1
    keys_used = [a["idempotency_key"] for a in row["attempts"]]
    assert [a["outcome"] for a in row["attempts"]] == ["failed_transient", "failed_transient", "unknown", "succeeded"]
    # New keys after known failures (Stripe would replay the stored error), the same after the unknown one.
    assert len(set(keys_used[:3])) == 3 and keys_used[3] == keys_used[2]


async def test_an_unknown_outcome_is_looked_up_before_anything_is_asked_again(
        stripe_client: ApiClient, fake_stripe: FakeStripe, clock: FakeClock) -> None:
    client = stripe_client
    _, transfer, _, admin = await _sold(client, fake_stripe)
    fake_stripe.fail("/v1/transfers", "commit_500")  # paid at Stripe, but we are told 500
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert row["status"] == "failed" and row["attempts"][0]["outcome"] == "unknown"
    clock.advance(3600)
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert row["status"] == "completed" and len(fake_stripe.transfers) == 1
    assert fake_stripe.calls["POST /v1/transfers"] == 1 and fake_stripe.calls["GET /v1/transfers"] == 1
    assert row["provider_transfer_id"] == next(iter(fake_stripe.transfers))


async def test_a_timeout_after_stripe_paid_pays_once(stripe_client: ApiClient, fake_stripe: FakeStripe,
                                                     clock: FakeClock) -> None:
    client = stripe_client
    _, transfer, _, admin = await _sold(client, fake_stripe)
    fake_stripe.slow_seconds = 1.5  # past STRIPE_TIMEOUT (0.5 s)
    fake_stripe.fail("/v1/transfers", "commit_slow")
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert row["status"] == "failed" and row["attempts"][0]["outcome"] == "unknown"
    clock.advance(3600)
    await run_worker(client)
    assert (await admin_transfer(client, admin, transfer["id"]))["status"] == "completed"
    assert len(fake_stripe.transfers) == 1


async def test_a_worker_that_dies_mid_transfer_is_taken_over_after_its_lease(
        stripe_client: ApiClient, fake_stripe: FakeStripe, clock: FakeClock) -> None:
    client = stripe_client
    _, transfer, _, admin = await _sold(client, fake_stripe)
    payer = client.app[keys.payouts].payer
    fake_stripe.slow_seconds = 0.3
    fake_stripe.fail("/v1/transfers", "commit_slow")
    dying = asyncio.create_task(payouts.run_due(payer))
    while fake_stripe.calls["POST /v1/transfers"] == 0:
        await asyncio.sleep(0.01)
    dying.cancel()  # the node is gone: its claim committed, its answer never recorded
    await asyncio.gather(dying, return_exceptions=True)
    await asyncio.sleep(0.4)  # Stripe finishes the transfer it received
    assert (await admin_transfer(client, admin, transfer["id"]))["status"] == "processing"
    await run_worker(client)  # the lease (2 s on the clock) still runs: nobody takes it over
    assert (await admin_transfer(client, admin, transfer["id"]))["status"] == "processing"
    clock.advance(2)
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert row["status"] == "completed" and len(fake_stripe.transfers) == 1
    assert fake_stripe.calls["POST /v1/transfers"] == 1
    assert row["attempts"][0]["outcome"] == "started" and row["attempts"][1]["outcome"] == "succeeded"
    assert row["attempts"][0]["idempotency_key"] == row["attempts"][1]["idempotency_key"]


async def test_retries_run_out_and_the_seller_is_told(stripe_client: ApiClient, fake_stripe: FakeStripe,
                                                      clock: FakeClock) -> None:
    client = stripe_client
    seller, transfer, _, admin = await _sold(client, fake_stripe)
    fake_stripe.fail("/v1/transfers", "balance_insufficient", times=10)
    for _ in range(4):  # the first attempt and TRANSFER_MAX_RETRIES (3) retries
        await run_worker(client)
        clock.advance(3600)
    row = await admin_transfer(client, admin, transfer["id"])
    assert (row["status"], row["retry_count"], row["next_retry_at"]) == ("failed", 4, None)
    assert len(row["attempts"]) == 4
    clock.advance(10 * 3600)
    await run_worker(client)
    assert len((await admin_transfer(client, admin, transfer["id"]))["attempts"]) == 4
    notes = (await client.get("/notifications", user=seller)).data
    failed = [n for n in notes["notifications"] if n["kind"] == "transfer_failed"]
    assert len(failed) == 1 and failed[0]["data"]["transfer_id"] == transfer["id"]


async def test_a_permanent_failure_is_not_retried_and_the_seller_is_told(
        stripe_client: ApiClient, fake_stripe: FakeStripe, clock: FakeClock) -> None:
    client = stripe_client
    seller, transfer, account_id, admin = await _sold(client, fake_stripe)
    fake_stripe.reject(account_id)
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert (row["status"], row["retry_count"], row["next_retry_at"]) == ("failed", 1, None)
    assert row["attempts"][0]["outcome"] == "failed_permanent"
    assert "insufficient_capabilities_for_transfer" in row["last_error"]
    clock.advance(86400)
    await run_worker(client)
    assert len((await admin_transfer(client, admin, transfer["id"]))["attempts"]) == 1
    notes = (await client.get("/notifications", user=seller)).data["notifications"]
    assert [n["kind"] for n in notes].count("transfer_failed") == 1
    # The admin retries once the account is fixed: retry_count counts that retry too.
    fake_stripe.enable(account_id)
    reply = await client.post(f"/admin/transfers/{transfer['id']}/retry", user=admin)
    assert reply.status == 200, reply.body
    assert reply.data == {"id": transfer["id"], "status": "completed", "retry_count": 2}
    row = await admin_transfer(client, admin, transfer["id"])
    assert row["attempts"][-1]["triggered_by"] == admin.id and len(fake_stripe.transfers) == 1
    again = await client.post(f"/admin/transfers/{transfer['id']}/retry", user=admin)
    assert again.status == 409 and again.body["details"]["status"] == "completed"


async def test_a_refund_reverses_a_paid_transfer_and_cancels_an_unpaid_one(
        stripe_client: ApiClient, fake_stripe: FakeStripe, clock: FakeClock) -> None:
    client = stripe_client
    seller, product, _ = await onboarded_seller(client, fake_stripe, price_cents=2000)
    admin = await client.register(role="admin")
    buyer, paid_order = await buy(client, product)
    await run_worker(client)
    fake_stripe.fail("/v1/transfers", "balance_insufficient")
    buyer2, unpaid_order = await buy(client, product)
    await run_worker(client)
    for who, order in ((buyer, paid_order), (buyer2, unpaid_order)):
        reply = await client.post(f"/marketplace/orders/{order['id']}/refund", user=who, json={"reason": "changed my mind"})
        assert reply.status == 200, reply.body
        await wait_for_status(client, who, order["id"], "refunded")
    by_order = {t["order_id"]: t for t in await transfers_of(client, seller)}
    assert by_order[paid_order["id"]]["status"] == "reversal_pending"
    assert by_order[unpaid_order["id"]]["status"] == "canceled"
    fake_stripe.fail("/v1/transfers/", "500")  # the reversal's outcome is unknown once
    await run_worker(client)
    clock.advance(3600)
    await run_worker(client)
    by_order = {t["order_id"]: t for t in await transfers_of(client, seller)}
    assert by_order[paid_order["id"]]["status"] == "reversed"
    (made,) = fake_stripe.transfers.values()
    assert made["reversed"] and made["amount_reversed"] == 1800 and len(fake_stripe.reversals) == 1
    detail = await admin_transfer(client, admin, by_order[paid_order["id"]]["id"])
    assert [(a["kind"], a["outcome"]) for a in detail["attempts"]] == [
        ("transfer", "succeeded"), ("reversal", "unknown"), ("reversal", "succeeded")]


async def test_with_retries_off_a_failure_waits_for_an_admin(stripe_client: ApiClient, fake_stripe: FakeStripe,
                                                             clock: FakeClock) -> None:
    client = stripe_client
    state = client.app[keys.payouts]
    object.__setattr__(state.payer, "policy", payouts.RetryPolicy(enabled=False))
    _, transfer, _, admin = await _sold(client, fake_stripe)
    fake_stripe.fail("/v1/transfers", "balance_insufficient")
    await run_worker(client)
    row = await admin_transfer(client, admin, transfer["id"])
    assert (row["status"], row["retry_count"], row["next_retry_at"]) == ("failed", 1, None)
    clock.advance(86400)
    await run_worker(client)
    assert fake_stripe.transfers == {}
    reply = await client.post(f"/admin/transfers/{transfer['id']}/retry", user=admin)
    assert reply.data == {"id": transfer["id"], "status": "completed", "retry_count": 2}
