"""After the sale: reviews, invoices, refunds through the sandbox, purchase downloads."""

from __future__ import annotations

import io
import uuid

import pytest
from pypdf import PdfReader

from tests.support import ApiClient
from tests.veza.api.market_helpers import bought, checkout, seller_with_product, wait_for_status
from tests.veza.api.track_helpers import make_track


async def test_only_a_paying_buyer_reviews_once(client: ApiClient) -> None:
    seller, buyer, product, order = await bought(client)
    path = f"/marketplace/products/{product['id']}/reviews"
    assert (await client.post(path, json={"rating": 5})).status == 401
    stranger = await client.register()
    assert (await client.post(path, user=stranger, json={"rating": 5})).status == 403
    assert (await client.post(path, user=seller, json={"rating": 5})).status == 403
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": 4.5}, {"rating": 5, "comment": "c" * 2001}, {}):
        assert (await client.post(path, user=buyer, json=bad)).status == 400, bad
    created = await client.post(path, user=buyer, json={"rating": 4, "comment": "Amazing track!"})
    assert created.status == 201
    review = created.data
    assert review["product_id"] == product["id"] and review["buyer_id"] == buyer.id
    assert review["order_id"] == order["id"] and review["rating"] == 4 and review["comment"] == "Amazing track!"
    assert (await client.post(path, user=buyer, json={"rating": 1})).status == 409
    listed = await client.get(path, params={"limit": 10})
    assert listed.status == 200 and listed.data["reviews"] == [review]
    shown = (await client.get(f"/marketplace/products/{product['id']}")).data
    assert shown["rating_avg"] == 4.0 and shown["review_count"] == 1
    assert (await client.get(f"/marketplace/products/{uuid.uuid4()}/reviews")).status == 404
    assert (await client.get(path, params={"limit": 0})).status == 400


async def test_a_pending_order_cannot_review(client: ApiClient) -> None:
    _, product = await seller_with_product(client)
    buyer = await client.register()
    assert (await checkout(client, buyer, product["id"])).status == 201
    reply = await client.post(f"/marketplace/products/{product['id']}/reviews", user=buyer, json={"rating": 5})
    assert reply.status == 403


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_invoice_pdf_for_the_buyer_with_a_fixed_number(client: ApiClient) -> None:
    seller, buyer, product, order = await bought(client, title="Nuit Blanche — stems", price_cents=2999)
    path = f"/marketplace/orders/{order['id']}/invoice"
    reply = await client.get(path, user=buyer)
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/pdf"
    assert reply.body.startswith(b"%PDF")
    text = _text(reply.body)
    number = next(word for word in text.split() if word.startswith("INV-"))
    assert number.startswith("INV-20") and len(number) == len("INV-2026-000001")
    for expected in ("Nuit Blanche — stems", seller.username, buyer.username, "29.99 EUR", order["id"]):
        assert expected in text, expected
    again = await client.get(path, user=buyer)
    assert number in _text(again.body)  # fixed at first issue
    assert (await client.get(path, user=seller)).status == 403
    assert (await client.get(path, user=await client.register())).status == 404
    assert (await client.get(path)).status == 401


async def test_no_invoice_while_pending(client: ApiClient) -> None:
    _, product = await seller_with_product(client)
    buyer = await client.register()
    order = (await checkout(client, buyer, product["id"])).data
    assert (await client.get(f"/marketplace/orders/{order['id']}/invoice", user=buyer)).status == 409


async def test_invoice_numbers_are_sequential(client: ApiClient) -> None:
    numbers = []
    for _ in range(3):
        _, buyer, _, order = await bought(client)
        pdf = (await client.get(f"/marketplace/orders/{order['id']}/invoice", user=buyer)).body
        numbers.append(int(next(w for w in _text(pdf).split() if w.startswith("INV-"))[-6:]))
    assert numbers == sorted(numbers) and len(set(numbers)) == 3 and numbers[2] - numbers[0] >= 2


async def test_refund_in_the_sandbox_revokes_returns_and_says_so(client: ApiClient) -> None:
    seller, buyer, product, order = await bought(client, stock=1)
    path = f"/marketplace/orders/{order['id']}/refund"
    assert (await client.post(path, json={"reason": "x"})).status == 401
    assert (await client.post(path, user=await client.register(), json={"reason": "x"})).status == 403
    for bad in ({}, {"reason": ""}, {"reason": "r" * 501}, {"reason": "ok", "details": "d" * 2001}):
        assert (await client.post(path, user=buyer, json=bad)).status == 400, bad
    reply = await client.post(path, user=seller, json={"reason": "Not as described", "details": "wrong file"})
    assert reply.status == 200 and reply.data["message"] == "Refund initiated" and reply.data["refund_id"]
    assert (await client.post(path, user=buyer, json={"reason": "again"})).status == 409  # one at a time
    await wait_for_status(client, buyer, order["id"], "refunded")
    assert (await client.post(path, user=buyer, json={"reason": "again"})).status == 409
    assert (await client.get("/marketplace/purchases", user=buyer)).data["total"] == 0
    assert (await client.get(f"/marketplace/products/{product['id']}")).data["stock_remaining"] == 1
    invoice = await client.get(f"/marketplace/orders/{order['id']}/invoice", user=buyer)
    assert "REFUNDED" in _text(invoice.body)
    kinds = [n["kind"] for n in (await client.get("/notifications", user=buyer)).data["notifications"]]
    assert "refund_updated" in kinds


async def test_only_paid_orders_are_refunded(client: ApiClient) -> None:
    _, product = await seller_with_product(client)
    buyer = await client.register()
    order = (await checkout(client, buyer, product["id"])).data
    reply = await client.post(f"/marketplace/orders/{order['id']}/refund", user=buyer, json={"reason": "x"})
    assert reply.status == 409


async def test_a_purchase_downloads_through_a_short_lived_link_revoked_on_refund(client: ApiClient) -> None:
    seller = await client.register(role="creator")
    track = await make_track(client, seller, title="Single")
    product = (await client.post("/marketplace/products", user=seller, json={
        "title": "Single", "price_cents": 129, "kind": "track", "track_id": track["id"]})).data
    buyer = await client.register()
    from tests.veza.api.market_helpers import sandbox_pay

    order = (await checkout(client, buyer, product["id"])).data
    await sandbox_pay(client, order)
    purchase = (await client.get("/marketplace/purchases", user=buyer)).data["purchases"][0]
    assert purchase["downloadable"] is True and purchase["kind"] == "track"
    path = f"/marketplace/purchases/{purchase['id']}/download"
    assert (await client.get(path)).status == 401
    assert (await client.get(path, user=seller)).status == 404
    link = await client.get(path, user=buyer)
    assert link.status == 200 and link.data["expires_at"]
    url = link.data["download_url"]
    relative = url[url.index("/api/v1/"):]
    file = await client.get(relative)  # no Authorization header
    assert file.status == 200 and file.headers["Content-Disposition"].startswith("attachment")
    assert file.body[:4] == b"RIFF"
    ranged = await client.get(relative, headers={"Range": "bytes=0-3"})
    assert ranged.status == 206 and ranged.body == b"RIFF"
    tampered = relative.replace("signature=", "signature=0")
    assert (await client.get(tampered)).status == 404
    assert (await client.get(relative.split("?")[0])).status == 404
    await client.post(f"/marketplace/orders/{order['id']}/refund", user=buyer, json={"reason": "x"})
    await wait_for_status(client, buyer, order["id"], "refunded")
    assert (await client.get(relative)).status == 404  # the link dies with the purchase
    assert (await client.get(path, user=buyer)).status == 404


async def test_merch_has_nothing_to_download(client: ApiClient) -> None:
    _, buyer, _, _ = await bought(client, kind="merch")
    purchase = (await client.get("/marketplace/purchases", user=buyer)).data["purchases"][0]
    assert purchase["downloadable"] is False
    assert (await client.get(f"/marketplace/purchases/{purchase['id']}/download", user=buyer)).status == 404


@pytest.mark.parametrize("path", ["/marketplace/purchases/not-a-uuid/download", f"/marketplace/purchases/{uuid.uuid4()}/download"])
async def test_unknown_purchases_are_404(client: ApiClient, path: str) -> None:
    assert (await client.get(path, user=await client.register())).status == 404
