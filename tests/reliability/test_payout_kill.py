"""A node SIGKILLed in the middle of a transfer, and restarted, pays it exactly once: the
claim and the attempt's idempotency key were committed before Stripe was called, so the
restarted node takes the row over when its lease runs out, finds the transfer by its
transfer_group and records it, without asking Stripe to pay again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import aiohttp
import asyncpg
import pytest

from tests.db import TestDatabase
from tests.fakes.stripe import API_KEY, FakeStripe
from tests.server_process import ServerProcess
from tests.support import PASSWORD

pytestmark = pytest.mark.slow


async def _call(http: aiohttp.ClientSession, server: ServerProcess, method: str, path: str, token: str | None = None,
                **kw: object) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, f"{server.base_url}/api/v1{path}", headers=headers, **kw) as resp:  # type: ignore[arg-type]
        body = await resp.json()
        assert body["success"] is True, (method, path, resp.status, body)
        return body["data"]


async def _register(http: aiohttp.ClientSession, server: ServerProcess, role: str = "user") -> dict:
    name = f"kill_{uuid.uuid4().hex[:10]}"
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    if role == "creator":
        body["role"] = "creator"
    data = await _call(http, server, "POST", "/auth/register", json=body)
    return {"id": data["user"]["id"], "token": data["access_token"]}


async def _transfer_row(dsn: str, seller_id: str) -> dict | None:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT id, status, provider_transfer_id FROM transfers WHERE seller_id = $1",
                                  uuid.UUID(seller_id))
        return dict(row) if row else None
    finally:
        await conn.close()


async def test_a_node_killed_mid_transfer_pays_it_once_after_restart(
        aiohttp_server, test_database: TestDatabase, start_server: Callable[..., ServerProcess]) -> None:  # type: ignore[no-untyped-def]
    fake = FakeStripe(slow_seconds=4.0)
    stripe = await aiohttp_server(fake.app())
    env = {"STRIPE_SECRET_KEY": API_KEY, "STRIPE_API_BASE": str(stripe.make_url("")).rstrip("/"),
           "STRIPE_WEBHOOK_SECRET": fake.webhook_secret, "STRIPE_TIMEOUT": "1.5", "TRANSFER_LEASE": "3",
           "TRANSFER_POLL_INTERVAL": "0.1"}
    server = start_server(**env)
    async with aiohttp.ClientSession() as http:
        seller = await _register(http, server, "creator")
        product = await _call(http, server, "POST", "/marketplace/products", seller["token"],
                              json={"title": "Stems", "price_cents": 2999, "kind": "sample_pack"})
        await _call(http, server, "POST", "/sell/connect/onboard", seller["token"])
        account_id = next(a["id"] for a in fake.accounts.values() if a["metadata"]["user_id"] == seller["id"])
        fake.enable(account_id)
        status, _ = await fake.deliver(f"{server.base_url}/api/v1/webhooks/stripe", fake.account_event(account_id))
        assert status == 200
        fake.fail("/v1/transfers", "commit_slow")  # Stripe pays, then the node hears nothing
        buyer = await _register(http, server)
        order = await _call(http, server, "POST", "/marketplace/orders", buyer["token"],
                            json={"items": [{"product_id": product["id"], "quantity": 1}], "payment_method": "card"})
        await _call(http, server, "POST", f"/sandbox/payments/{order['payment']['payment_id']}/confirm",
                    json={"client_secret": order["payment"]["client_secret"], "outcome": "succeed"})
        deadline = time.monotonic() + 20
        while not fake.transfers:
            assert time.monotonic() < deadline, "the node never paid"
            await asyncio.sleep(0.01)
        server.stop()  # SIGKILL, before STRIPE_TIMEOUT could end the attempt
        row = await _transfer_row(test_database.dsn, seller["id"])
        assert row is not None and row["status"] == "processing" and row["provider_transfer_id"] is None
        restarted = start_server(**env)
        deadline = time.monotonic() + 30
        while (row := await _transfer_row(test_database.dsn, seller["id"]))["status"] != "completed":  # type: ignore[index]
            assert time.monotonic() < deadline, f"the transfer stayed {row}\n{restarted.log()}"
            await asyncio.sleep(0.1)
    (made,) = fake.transfers.values()
    assert row["provider_transfer_id"] == made["id"] and made["metadata"]["transfer_id"] == str(row["id"])
    assert fake.calls["POST /v1/transfers"] == 1 and fake.calls["GET /v1/transfers"] == 1
