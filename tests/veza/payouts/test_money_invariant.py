"""Never lose or invent money: a randomized run of orders (several sellers each), refunds,
event replays, injected Stripe failures and workers dying mid-transfer, then the books of
both sides are compared."""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import pytest

from tests.fakes.stripe import FakeStripe
from tests.support import ApiClient, User
from tests.veza.api.market_helpers import sandbox_pay, wait_for_status
from tests.veza.payouts.conftest import FakeClock
from tests.veza.payouts.helpers import deliver_account, onboarded_seller, run_worker
from veza import keys
from veza.config import Settings
from veza.domain import payouts

FAULTS = ["balance_insufficient", "429", "500", "commit_500", "commit_slow", "slow"]
STEPS = int(os.environ.get("PAYOUT_INVARIANT_STEPS", "40"))


@pytest.fixture
def stripe_settings(stripe_settings: Settings) -> Settings:
    return stripe_settings.replace(transfer_max_retries=1000)  # every transfer settles in the end


async def _order(client: ApiClient, buyer: User, products: list[dict[str, Any]]) -> dict[str, Any]:
    items = [{"product_id": p["id"], "quantity": random.randint(1, 3)} for p in products]
    reply = await client.post("/marketplace/orders", user=buyer, json={"items": items, "payment_method": "card"})
    assert reply.status == 201, reply.body
    assert (await sandbox_pay(client, reply.data)).status == 200
    return reply.data


async def _crash_mid_transfer(client: ApiClient, fake: FakeStripe) -> None:
    """A worker dies after Stripe received its transfer and before it recorded the answer."""
    fake.fail("/v1/transfers", "commit_slow")
    before = fake.calls["POST /v1/transfers"]
    dying = asyncio.create_task(payouts.run_due(client.app[keys.payouts].payer))
    for _ in range(200):
        if fake.calls["POST /v1/transfers"] > before or dying.done():
            break
        await asyncio.sleep(0.005)
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)


async def test_the_books_balance_after_a_randomized_run(stripe_client: ApiClient, fake_stripe: FakeStripe,
                                                        clock: FakeClock) -> None:
    seed = int(os.environ.get("PAYOUT_INVARIANT_SEED", random.randrange(10**6)))
    rng = random.Random(seed)
    random.seed(seed)
    client, fake = stripe_client, fake_stripe
    fake.slow_seconds = 0.6  # past STRIPE_TIMEOUT (0.5 s)
    sellers = [await onboarded_seller(client, fake, price_cents=price) for price in (2999, 1250, 999, 333)]
    buyers = [await client.register() for _ in range(3)]
    orders: dict[str, tuple[User, dict[str, Any]]] = {}
    refunded: set[str] = set()
    for step in range(STEPS):
        action = rng.choices(["buy", "refund", "fault", "work", "crash", "replay", "time"],
                             weights=[5, 2, 3, 4, 1, 1, 2])[0]
        if action == "buy":
            chosen = rng.sample(sellers, rng.randint(1, 3))
            buyer = rng.choice(buyers)
            order = await _order(client, buyer, [product for _, product, _ in chosen])
            orders[order["id"]] = (buyer, order)
        elif action == "refund" and set(orders) - refunded:
            order_id = rng.choice(sorted(set(orders) - refunded))
            buyer, _ = orders[order_id]
            reply = await client.post(f"/marketplace/orders/{order_id}/refund", user=buyer, json={"reason": "random"})
            assert reply.status == 200, reply.body
            await wait_for_status(client, buyer, order_id, "refunded")
            refunded.add(order_id)
        elif action == "fault":
            fake.fail(rng.choice(["/v1/transfers", "/v1/transfers/"]), rng.choice(FAULTS), rng.randint(1, 2))
        elif action == "work":
            await run_worker(client)
        elif action == "crash":
            await _crash_mid_transfer(client, fake)
        elif action == "replay":
            _, _, account_id = rng.choice(sellers)
            status, _ = await deliver_account(client, fake, account_id, event_id=f"evt_replay_{step % 3}")
            assert status == 200
        else:
            clock.advance(rng.uniform(0, 7200))
    fake.clear_faults()
    for _ in range(30):  # quiesce: every retry and lease runs out on the clock
        clock.advance(6 * 3600)
        await run_worker(client)
    await _check_books(client, fake, orders, refunded, seed, [seller.id for seller, _, _ in sellers])


async def _check_books(client: ApiClient, fake: FakeStripe, orders: dict[str, Any], refunded: set[str],
                       seed: int, seller_ids: list[str]) -> None:
    async with client.app[keys.db].connection() as conn:
        rows = [dict(r) for r in await conn.fetch(
            "SELECT t.*, a.account_id, o.total_cents, o.status AS order_status FROM transfers t"
            " JOIN orders o ON o.id = t.order_id LEFT JOIN seller_accounts a ON a.user_id = t.seller_id"
            " WHERE t.seller_id = ANY($1::uuid[])", seller_ids)]
    context = f"seed {seed}"
    by_order: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_order.setdefault(str(row["order_id"]), []).append(row)
    assert set(by_order) == set(orders), context
    for order_id, transfers in by_order.items():
        total = transfers[0]["total_cents"]
        assert sum(t["amount_cents"] + t["platform_fee_cents"] for t in transfers) == total, (context, order_id)
        expected = {"refunded"} if order_id in refunded else {"paid"}
        assert {t["order_status"] for t in transfers} == expected, (context, order_id)
        if order_id in refunded:
            assert {t["status"] for t in transfers} <= {"reversed", "canceled"}, (context, transfers)
        else:
            assert {t["status"] for t in transfers} == {"completed"}, (context, transfers)
    ours = {str(r["id"]): r for r in rows}
    seen: dict[str, str] = {}
    for made in fake.transfers.values():
        transfer_id = made["metadata"]["transfer_id"]
        assert transfer_id in ours, (context, "a transfer at Stripe that is not in our table", made)
        assert transfer_id not in seen, (context, "paid twice", made, seen[transfer_id])
        seen[transfer_id] = made["id"]
        row = ours[transfer_id]
        assert (made["amount"], made["destination"], made["transfer_group"]) == (
            row["amount_cents"], row["account_id"], str(row["order_id"])), context
        assert row["provider_transfer_id"] == made["id"], context
        assert made["amount_reversed"] == (made["amount"] if row["status"] == "reversed" else 0), (context, row, made)
    for transfer_id, row in ours.items():
        assert (transfer_id in seen) == (row["status"] in ("completed", "reversed")), (context, row)
        assert row["idempotency_key"] is None, (context, row)
    held = sum(m["amount"] - m["amount_reversed"] for m in fake.transfers.values())
    assert held == sum(r["amount_cents"] for r in rows if r["status"] == "completed"), context
