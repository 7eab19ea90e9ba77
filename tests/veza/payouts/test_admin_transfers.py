"""GET /admin/transfers and POST /admin/transfers/:id/retry exactly per the API reference,
and the /health/deep config keys."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.fakes.stripe import FakeStripe
from tests.support import ApiClient
from tests.veza.api.market_helpers import seller_with_product
from tests.veza.payouts.helpers import buy, onboarded_seller, run_worker, transfers_of

FIELDS = {"id", "seller_id", "order_id", "amount_cents", "platform_fee_cents", "currency", "status", "retry_count",
          "next_retry_at", "created_at"}


async def test_admins_list_every_transfer_with_filters(stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    admin = await client.register(role="admin")
    seller, product, _ = await onboarded_seller(client, fake_stripe, price_cents=2999)
    other, other_product = await seller_with_product(client, price_cents=1000)
    await buy(client, product)
    await run_worker(client)
    await buy(client, other_product)
    reply = await client.get("/admin/transfers?limit=50&offset=0", user=admin)
    assert reply.status == 200  # the test database is shared: ours are the newest two
    assert reply.data["total"] >= 2 and all(set(t) == FIELDS for t in reply.data["transfers"])
    newest, oldest = reply.data["transfers"][:2]
    assert (newest["seller_id"], newest["status"], newest["amount_cents"]) == (other.id, "pending", 900)
    assert (oldest["seller_id"], oldest["status"], oldest["amount_cents"], oldest["platform_fee_cents"],
            oldest["currency"], oldest["retry_count"]) == (seller.id, "completed", 2699, 300, "EUR", 0)
    assert oldest["created_at"].endswith("Z")
    only = await client.get(f"/admin/transfers?status=completed&seller_id={seller.id}", user=admin)
    assert [t["id"] for t in only.data["transfers"]] == [oldest["id"]] and only.data["total"] == 1
    assert (await client.get(f"/admin/transfers?status=pending&seller_id={seller.id}", user=admin)).data["total"] == 0
    today = dt.datetime.now(dt.UTC).date()
    for query, total in ((f"from={today}", 1), (f"to={today}", 1), (f"from={today + dt.timedelta(days=1)}", 0),
                         (f"to={today - dt.timedelta(days=1)}", 0), ("from=2020-01-01T00:00:00Z", 1),
                         (f"to={oldest['created_at']}", 1), (f"from={oldest['created_at']}", 1),
                         ("to=2020-01-01T00:00:00%2B02:00", 0)):
        found = await client.get(f"/admin/transfers?seller_id={seller.id}&{query}", user=admin)
        assert found.status == 200 and found.data["total"] == total, (query, found.body)
    between = await client.get(f"/admin/transfers?from={oldest['created_at']}&to={newest['created_at']}", user=admin)
    assert [t["id"] for t in between.data["transfers"]] == [newest["id"], oldest["id"]]
    assert (await client.get(f"/admin/transfers?seller_id={uuid.uuid4()}", user=admin)).data["total"] == 0


async def test_bad_filters_are_400s(stripe_client: ApiClient) -> None:
    client = stripe_client
    admin = await client.register(role="admin")
    for query, field in (("status=paid", "status"), ("seller_id=nope", "seller_id"), ("from=yesterday", "from"),
                         ("to=2026-13-45", "to"), ("from=2026-02-02&to=2026-02-01", "from"), ("limit=0", "limit"),
                         ("limit=1000", "limit"), ("offset=-3", "offset"), ("to=9999-12-31T23:59:59.999999+00:00", "to")):
        reply = await client.get(f"/admin/transfers?{query}", user=admin)
        assert reply.status == 400 and reply.body["success"] is False, (query, reply.body)
        assert field in reply.body["details"], (query, reply.body)


async def test_only_admins_see_or_retry_transfers(stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    seller, product, _ = await onboarded_seller(client, fake_stripe)
    await buy(client, product)
    (transfer,) = await transfers_of(client, seller)
    for who in (seller, await client.register()):
        assert (await client.get("/admin/transfers", user=who)).status == 403
        assert (await client.get(f"/admin/transfers/{transfer['id']}", user=who)).status == 403
        assert (await client.post(f"/admin/transfers/{transfer['id']}/retry", user=who)).status == 403
    assert (await client.get("/admin/transfers")).status == 401
    assert (await client.post(f"/admin/transfers/{transfer['id']}/retry")).status == 401


async def test_retry_is_for_failed_transfers_only(stripe_client: ApiClient, fake_stripe: FakeStripe) -> None:
    client = stripe_client
    admin = await client.register(role="admin")
    seller, product, _ = await onboarded_seller(client, fake_stripe)
    await buy(client, product)
    (transfer,) = await transfers_of(client, seller)
    pending = await client.post(f"/admin/transfers/{transfer['id']}/retry", user=admin)
    assert pending.status == 409 and pending.body["details"]["status"] == "pending"
    assert (await client.post(f"/admin/transfers/{uuid.uuid4()}/retry", user=admin)).status == 404
    assert (await client.post("/admin/transfers/not-a-uuid/retry", user=admin)).status == 404
    assert (await client.get(f"/admin/transfers/{uuid.uuid4()}", user=admin)).status == 404
    fake_stripe.fail("/v1/transfers", "500", times=2)
    await run_worker(client)
    failed = await client.post(f"/admin/transfers/{transfer['id']}/retry", user=admin)  # 500 again: still failed
    assert failed.status == 200 and failed.data["status"] == "failed" and failed.data["retry_count"] == 2
    done = await client.post(f"/admin/transfers/{transfer['id']}/retry", user=admin)
    assert done.data == {"id": transfer["id"], "status": "completed", "retry_count": 3}
    assert len(fake_stripe.transfers) == 1


async def test_deep_health_reports_the_payout_configuration(stripe_client: ApiClient, client: ApiClient) -> None:
    config = (await stripe_client.get("/health/deep")).body["data"]["config"]
    assert (config["stripe_connect_enabled"], config["platform_fee_rate"], config["transfer_retry_enabled"]) == (
        True, 0.1, True)
    sandbox = (await client.get("/health/deep")).body["data"]["config"]
    assert sandbox["stripe_connect_enabled"] is False and sandbox["connect_provider"] == "sandbox"
