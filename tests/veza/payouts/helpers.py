"""Payout test helpers: an onboarded seller, a paid order, a worker round."""

from __future__ import annotations

from typing import Any

from actors.payouts import Wake
from tests.fakes.stripe import FakeStripe
from tests.support import ApiClient, User
from tests.veza.api.market_helpers import checkout, order_status, sandbox_pay, seller_with_product
from veza import keys


def account_of(fake: FakeStripe, user: User) -> str:
    return next(a["id"] for a in fake.accounts.values() if a["metadata"].get("user_id") == user.id)


async def deliver_account(client: ApiClient, fake: FakeStripe, account_id: str, **kw: Any) -> tuple[int, Any]:
    return await fake.deliver(str(client.raw.make_url("/api/v1/webhooks/stripe")), fake.account_event(account_id, **kw))


async def onboard(client: ApiClient, fake: FakeStripe, seller: User, *, enable: bool = True) -> str:
    reply = await client.post("/sell/connect/onboard", user=seller)
    assert reply.status == 200, reply.body
    account_id = account_of(fake, seller)
    if enable:
        fake.enable(account_id)
        status, body = await deliver_account(client, fake, account_id)
        assert status == 200 and body["data"]["outcome"] == "applied", body
    return account_id


async def onboarded_seller(client: ApiClient, fake: FakeStripe, *, enable: bool = True,
                           **fields: Any) -> tuple[User, dict[str, Any], str]:
    seller, product = await seller_with_product(client, **fields)
    return seller, product, await onboard(client, fake, seller, enable=enable)


async def buy(client: ApiClient, product: dict[str, Any], buyer: User | None = None,
              quantity: int = 1) -> tuple[User, dict[str, Any]]:
    buyer = buyer or await client.register()
    reply = await checkout(client, buyer, product["id"], quantity)
    assert reply.status == 201, reply.body
    paid = await sandbox_pay(client, reply.data)
    assert paid.status == 200, paid.body
    assert await order_status(client, buyer, reply.data["id"]) == "paid"
    return buyer, reply.data


async def run_worker(client: ApiClient) -> int:
    """One wake of this node's PayoutWorker, answered when its rounds are over."""
    return await client.app[keys.payouts].worker.ask(Wake("test"), timeout=30)


async def transfers_of(client: ApiClient, seller: User) -> list[dict[str, Any]]:
    reply = await client.get("/sell/transfers?limit=100", user=seller)
    assert reply.status == 200, reply.body
    return reply.data["transfers"]


async def admin_transfer(client: ApiClient, admin: User, transfer_id: str) -> dict[str, Any]:
    reply = await client.get(f"/admin/transfers/{transfer_id}", user=admin)
    assert reply.status == 200, reply.body
    return reply.data
