"""Hyperswitch end to end against a local fake of its API: payments and refunds created
with the api-key, and signed webhooks delivered, replayed, reordered and tampered with."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.fakes.hyperswitch import API_KEY, FakeHyperswitch
from tests.support import ApiClient
from tests.veza.api.market_helpers import checkout, order_status, seller_with_product, wait_for_status
from veza import keys
from veza.app import create_app
from veza.config import Settings

SECRET = "hash-key-" + "k" * 40


@pytest.fixture
async def fake(aiohttp_server) -> FakeHyperswitch:  # type: ignore[no-untyped-def]
    fake = FakeHyperswitch(SECRET)
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def hs(aiohttp_client, settings: Settings, fake: FakeHyperswitch) -> ApiClient:  # type: ignore[no-untyped-def]
    app = create_app(settings.replace(payments_provider="hyperswitch", hyperswitch_base_url=fake.base_url,
                                      hyperswitch_api_key=API_KEY, hyperswitch_webhook_secret=SECRET,
                                      hyperswitch_timeout=2.0))
    client = ApiClient(await aiohttp_client(app))
    fake.webhook_url = str(client.raw.make_url("/api/v1/webhooks/hyperswitch"))
    return client


async def _order(hs: ApiClient, stock: int | None = 5, price: int = 2999) -> tuple:
    seller, product = await seller_with_product(hs, stock=stock, price_cents=price)
    buyer = await hs.register()
    reply = await checkout(hs, buyer, product["id"])
    assert reply.status == 201, reply.body
    return seller, buyer, product, reply.data


async def _stock(hs: ApiClient, product_id: str) -> tuple[int, int]:
    async with hs.app[keys.db].connection() as conn:
        row = await conn.fetchrow("SELECT reserved, sold FROM products WHERE id = $1", uuid.UUID(product_id))
    return row["reserved"], row["sold"]


async def test_checkout_creates_the_payment_at_hyperswitch(hs: ApiClient, fake: FakeHyperswitch) -> None:
    _, _, _, order = await _order(hs)
    kind, body = fake.requests[-1]
    assert kind == "payments"
    assert body["amount"] == 2999 and body["currency"] == "EUR" and body["confirm"] is False
    assert body["capture_method"] == "automatic" and body["metadata"] == {"order_id": order["id"]}
    assert body["return_url"].endswith(f"/static/checkout.html?order={order['id']}")
    assert order["payment"]["provider"] == "hyperswitch" and order["payment"]["payment_id"] in fake.payments


async def test_a_provider_that_fails_leaves_no_half_order(hs: ApiClient, fake: FakeHyperswitch) -> None:
    seller, product = await seller_with_product(hs, stock=1)
    buyer = await hs.register()
    fake.fail_next = 500
    reply = await checkout(hs, buyer, product["id"])
    assert reply.status == 502 and reply.body["code"] == "bad_gateway"
    assert await _stock(hs, product["id"]) == (0, 0)
    assert (await hs.get("/marketplace/orders", user=buyer)).data["total"] == 0
    assert (await checkout(hs, buyer, product["id"])).status == 201  # the unit is still for sale


async def test_an_unreachable_provider_is_a_503(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.replace(payments_provider="hyperswitch", hyperswitch_base_url="http://127.0.0.1:9",
                                      hyperswitch_api_key=API_KEY, hyperswitch_webhook_secret=SECRET))
    client = ApiClient(await aiohttp_client(app))
    _, product = await seller_with_product(client, stock=1)
    buyer = await client.register()
    reply = await checkout(client, buyer, product["id"])
    assert reply.status == 503 and reply.body["code"] == "unavailable"
    assert await _stock(client, product["id"]) == (0, 0)


async def test_a_signed_payment_succeeded_pays_once_whatever_is_replayed(hs: ApiClient, fake: FakeHyperswitch) -> None:
    seller, buyer, product, order = await _order(hs)
    body = fake.event("payment_succeeded", order["payment"]["payment_id"])
    assert await fake.deliver(body) == (200, {"success": True, "data": {"received": True, "outcome": "applied"}})
    assert await order_status(hs, buyer, order["id"]) == "paid"
    replay = await fake.deliver(body)
    assert replay[0] == 200 and replay[1]["data"]["outcome"] == "replay"
    # A second event id for the same payment (Hyperswitch resends with new ids too) changes nothing.
    again = await fake.deliver(fake.event("payment_succeeded", order["payment"]["payment_id"]))
    assert again[1]["data"]["outcome"] == "ignored"
    concurrent = await asyncio.gather(*(fake.deliver(fake.event("payment_succeeded", order["payment"]["payment_id"]))
                                        for _ in range(10)))
    assert {c[1]["data"]["outcome"] for c in concurrent} == {"ignored"}
    assert await _stock(hs, product["id"]) == (0, 1)
    async with hs.app[keys.db].connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM purchases WHERE order_id = $1", uuid.UUID(order["id"])) == 1
        transfers = await conn.fetch("SELECT seller_id, amount_cents, platform_fee_cents, currency, status"
                                     " FROM transfers WHERE order_id = $1", uuid.UUID(order["id"]))
    assert [dict(t) for t in transfers] == [{"seller_id": uuid.UUID(seller.id), "amount_cents": 2699,
                                             "platform_fee_cents": 300, "currency": "EUR", "status": "pending"}]


async def test_the_reference_header_and_dotted_names_are_accepted(hs: ApiClient, fake: FakeHyperswitch) -> None:
    _, buyer, _, order = await _order(hs)
    body = fake.event("payment_succeeded", order["payment"]["payment_id"]).replace(
        b'"event_type":"payment_succeeded"', b'"event_type":"payment.succeeded"')
    status, reply = await fake.deliver(body, header="X-Hyperswitch-Signature")
    assert status == 200 and reply["data"]["outcome"] == "applied"
    assert await order_status(hs, buyer, order["id"]) == "paid"


@pytest.mark.parametrize("signature", ["", "0" * 128, "deadbeef", None])
async def test_missing_or_wrong_signatures_are_401_and_change_nothing(hs: ApiClient, fake: FakeHyperswitch,
                                                                       signature: str | None) -> None:
    _, buyer, product, order = await _order(hs)
    body = fake.event("payment_succeeded", order["payment"]["payment_id"])
    if signature is None:  # signed, then tampered with: the amount is changed after signing
        from veza.services.payments.signing import sign
        good = sign(SECRET, body)
        status, reply = await fake.deliver(body.replace(b'"amount":2999', b'"amount":1'), signature=good)
    else:
        status, reply = await fake.deliver(body, signature=signature)
    assert status == 401 and reply["code"] == "unauthorized"
    assert await order_status(hs, buyer, order["id"]) == "pending"
    assert await _stock(hs, product["id"]) == (1, 0)
    async with hs.app[keys.db].connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM webhook_events WHERE payload->'content'->'object'->>"
                                   "'payment_id' = $1", order["payment"]["payment_id"]) == 0


async def test_no_signature_header_at_all_is_401(hs: ApiClient) -> None:
    reply = await hs.post("/webhooks/hyperswitch", data=b'{"event_id":"x"}', headers={"Content-Type": "application/json"})
    assert reply.status == 401


async def test_a_signed_malformed_body_is_400(hs: ApiClient, fake: FakeHyperswitch) -> None:
    for body in (b"not json", b"[]", b'{"event_type":"payment_succeeded"}', b'{"event_id":"","content":{"object":{}}}'):
        status, reply = await fake.deliver(body)
        assert status == 400, body


async def test_unknown_payments_and_event_types_answer_200(hs: ApiClient, fake: FakeHyperswitch) -> None:
    _, buyer, _, order = await _order(hs)
    fake.payments["pay_unknown"] = {"amount": 1, "currency": "EUR", "metadata": {}}
    status, reply = await fake.deliver(fake.event("payment_succeeded", "pay_unknown"))
    assert status == 200 and reply["data"]["outcome"] == "ignored"
    status, reply = await fake.deliver(fake.event("payment_processing", order["payment"]["payment_id"]))
    assert status == 200 and reply["data"]["outcome"] == "ignored"
    assert await order_status(hs, buyer, order["id"]) == "pending"


async def test_an_amount_mismatch_is_flagged_not_paid(hs: ApiClient, fake: FakeHyperswitch) -> None:
    _, buyer, product, order = await _order(hs)
    for wrong in ({"amount": 1}, {"currency": "USD"}):
        status, reply = await fake.deliver(fake.event("payment_succeeded", order["payment"]["payment_id"], **wrong))
        assert status == 200 and reply["data"]["outcome"] == "flagged"
    assert await order_status(hs, buyer, order["id"]) == "pending"
    assert await _stock(hs, product["id"]) == (1, 0)
    async with hs.app[keys.db].connection() as conn:
        row = await conn.fetchrow("SELECT flagged_reason FROM orders WHERE id = $1", uuid.UUID(order["id"]))
        audited = await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'FLAG' AND resource = $1",
                                      f"/marketplace/orders/{order['id']}")
    assert row["flagged_reason"] == "amount_mismatch" and audited == 2


async def test_a_failure_after_success_does_not_undo_the_payment(hs: ApiClient, fake: FakeHyperswitch) -> None:
    """Reordered delivery: the late `payment_failed` of an earlier attempt finds a paid order."""
    _, buyer, product, order = await _order(hs)
    payment_id = order["payment"]["payment_id"]
    failed, succeeded = fake.event("payment_failed", payment_id), fake.event("payment_succeeded", payment_id)
    assert (await fake.deliver(succeeded))[1]["data"]["outcome"] == "applied"
    assert (await fake.deliver(failed))[1]["data"]["outcome"] == "ignored"
    assert await order_status(hs, buyer, order["id"]) == "paid"
    assert await _stock(hs, product["id"]) == (0, 1)


async def test_failed_then_succeeded_keeps_the_order_failed_and_flags_it(hs: ApiClient, fake: FakeHyperswitch) -> None:
    _, buyer, product, order = await _order(hs)
    payment_id = order["payment"]["payment_id"]
    assert (await fake.deliver(fake.event("payment_failed", payment_id)))[1]["data"]["outcome"] == "applied"
    assert await _stock(hs, product["id"]) == (0, 0)
    assert (await fake.deliver(fake.event("payment_succeeded", payment_id)))[1]["data"]["outcome"] == "flagged"
    assert await order_status(hs, buyer, order["id"]) == "failed"


async def test_expiry_voids_the_payment_and_a_late_success_is_flagged(hs: ApiClient, fake: FakeHyperswitch) -> None:
    from veza.domain.marketplace import expire_due_orders

    _, buyer, product, order = await _order(hs)
    payment_id = order["payment"]["payment_id"]
    async with hs.app[keys.db].connection() as conn:
        await conn.execute("UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = $1",
                           uuid.UUID(order["id"]))
    market = hs.app[keys.marketplace]
    assert await expire_due_orders(hs.app[keys.db], market.announce, market.provider) == 1
    assert ("cancel", payment_id) in [(k, b.get("payment_id")) for k, b in fake.requests]
    # The money was taken anyway (a race with the cancel): the order stays expired, flagged.
    assert (await fake.deliver(fake.event("payment_succeeded", payment_id)))[1]["data"]["outcome"] == "flagged"
    assert await order_status(hs, buyer, order["id"]) == "expired"
    assert await _stock(hs, product["id"]) == (0, 0)


async def test_refund_through_hyperswitch(hs: ApiClient, fake: FakeHyperswitch) -> None:
    seller, buyer, product, order = await _order(hs)
    payment_id = order["payment"]["payment_id"]
    await fake.deliver(fake.event("payment_succeeded", payment_id))
    reply = await hs.post(f"/marketplace/orders/{order['id']}/refund", user=buyer, json={"reason": "Not as described"})
    assert reply.status == 200 and reply.data["message"] == "Refund initiated" and reply.data["status"] == "pending"
    refund_id = reply.data["refund_id"]
    assert fake.refunds[refund_id] == {"payment_id": payment_id, "amount": 2999, "reason": "Not as described",
                                       "refund_id": refund_id}
    assert await order_status(hs, buyer, order["id"]) == "refund_pending"
    done = fake.event("refund_succeeded", payment_id, refund_id=refund_id)
    assert (await fake.deliver(done))[1]["data"]["outcome"] == "applied"
    assert (await fake.deliver(done))[1]["data"]["outcome"] == "replay"
    await wait_for_status(hs, buyer, order["id"], "refunded")
    assert await _stock(hs, product["id"]) == (0, 0)
    assert (await hs.get("/marketplace/purchases", user=buyer)).data["total"] == 0
    async with hs.app[keys.db].connection() as conn:
        assert await conn.fetchval("SELECT status FROM transfers WHERE order_id = $1", uuid.UUID(order["id"])) == "canceled"


async def test_a_failed_refund_puts_the_order_back_to_paid(hs: ApiClient, fake: FakeHyperswitch) -> None:
    _, buyer, _, order = await _order(hs)
    payment_id = order["payment"]["payment_id"]
    await fake.deliver(fake.event("payment_succeeded", payment_id))
    refund_id = (await hs.post(f"/marketplace/orders/{order['id']}/refund", user=buyer,
                               json={"reason": "changed my mind"})).data["refund_id"]
    assert (await fake.deliver(fake.event("refund_failed", payment_id, refund_id=refund_id)))[1]["data"]["outcome"] == "applied"
    assert await order_status(hs, buyer, order["id"]) == "paid"
    # And the buyer may ask again.
    assert (await hs.post(f"/marketplace/orders/{order['id']}/refund", user=buyer, json={"reason": "again"})).status == 200


async def test_a_refund_the_provider_refuses_changes_nothing(hs: ApiClient, fake: FakeHyperswitch) -> None:
    _, buyer, _, order = await _order(hs)
    await fake.deliver(fake.event("payment_succeeded", order["payment"]["payment_id"]))
    fake.fail_next = 503
    reply = await hs.post(f"/marketplace/orders/{order['id']}/refund", user=buyer, json={"reason": "x"})
    assert reply.status == 502
    assert await order_status(hs, buyer, order["id"]) == "paid"


async def test_a_webhook_arriving_in_pieces_is_read_whole(hs: ApiClient, fake: FakeHyperswitch) -> None:
    """The signature covers every byte: a body sent in small chunks must be read to its end."""
    import aiohttp

    from veza.services.payments.signing import sign

    _, buyer, _, order = await _order(hs)
    body = fake.event("payment_succeeded", order["payment"]["payment_id"])
    body = body[:-1] + b',"padding":"' + b"x" * 200_000 + b'"}'

    async def pieces():  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]

    async with aiohttp.ClientSession() as http:
        async with http.post(fake.webhook_url, data=pieces(), headers={
                "Content-Type": "application/json", "X-Webhook-Signature-512": sign(SECRET, body)}) as resp:
            assert resp.status == 200, await resp.text()
    assert await order_status(hs, buyer, order["id"]) == "paid"
    too_big = b'{"x":"' + b"y" * 300_000 + b'"}'
    status, reply = await fake.deliver(too_big)
    assert status == 413


async def test_a_signed_event_carrying_a_nul_escape_is_stored_not_a_500(hs: ApiClient, fake: FakeHyperswitch) -> None:
    """jsonb cannot hold U+0000; the event still applies and its stored copy drops the NUL."""
    _, buyer, _, order = await _order(hs)
    body = fake.event("payment_succeeded", order["payment"]["payment_id"])
    body = body[:-1] + b',"note":"a\\u0000b"}'
    status, reply = await fake.deliver(body)
    assert status == 200 and reply["data"]["outcome"] == "applied"
    assert await order_status(hs, buyer, order["id"]) == "paid"
    async with hs.app[keys.db].connection() as conn:
        note = await conn.fetchval("SELECT payload->>'note' FROM webhook_events WHERE event_type = 'payment_succeeded'"
                                   " AND payload->'content'->'object'->>'payment_id' = $1", order["payment"]["payment_id"])
    assert note == "ab"  # stored as the JSON object it is, NUL dropped
