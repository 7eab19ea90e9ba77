"""The marketplace's pure rules, table-driven: fees, carts, who sees an order."""

from __future__ import annotations

import uuid

import pytest

from veza.domain import marketplace as rules
from veza.domain.errors import Conflict, Invalid, NotFound


@pytest.mark.parametrize("cents, rate, fee", [
    (2999, 0.1, 300), (2995, 0.1, 300), (2994, 0.1, 299), (5, 0.1, 1), (4, 0.1, 0), (100, 0.0, 0),
    (1, 0.5, 1), (100_000_000, 0.1, 10_000_000), (333, 0.15, 50),
])
def test_platform_fee_rounds_half_up(cents: int, rate: float, fee: int) -> None:
    assert rules.platform_fee(cents, rate) == fee


def test_payout_rows_split_per_seller() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    order = {"currency": "EUR", "items": [
        {"seller_id": a, "unit_price_cents": 1000, "quantity": 2},
        {"seller_id": b, "unit_price_cents": 2999, "quantity": 1},
        {"seller_id": a, "unit_price_cents": 999, "quantity": 1}]}
    rows = sorted(rules.payout_rows(order, 0.1), key=lambda r: r[1])
    assert rows == sorted([(a, 2999 - 300, 300, "EUR"), (b, 2699, 300, "EUR")], key=lambda r: r[1])
    assert all(amount + fee in (2999,) for _, amount, fee, _ in rows)


def test_merge_cart_adds_up_and_orders_lines() -> None:
    p, q = uuid.uuid4(), uuid.uuid4()
    merged = rules.merge_cart([rules.CartLine(p, 2), rules.CartLine(q, 1), rules.CartLine(p, 3)])
    assert {(l.product_id, l.quantity) for l in merged} == {(p, 5), (q, 1)}
    assert [l.product_id for l in merged] == sorted([p, q], key=str)


@pytest.mark.parametrize("lines", [[], [rules.CartLine(uuid.uuid4(), 0)], [rules.CartLine(uuid.uuid4(), 101)],
                                   [rules.CartLine(uuid.uuid4(), 1) for _ in range(51)]])
def test_merge_cart_refuses(lines: list) -> None:
    with pytest.raises(Invalid):
        rules.merge_cart(lines)


def _product(seller: uuid.UUID, **kw: object) -> dict:
    return {"id": kw.get("id", uuid.uuid4()), "seller_id": seller, "title": "T", "price_cents": 500,
            "currency": kw.get("currency", "EUR"), "status": kw.get("status", "active")}


def test_price_cart_uses_the_server_price() -> None:
    seller, buyer = uuid.uuid4(), uuid.uuid4()
    product = _product(seller)
    priced, currency, subtotal = rules.price_cart([rules.CartLine(product["id"], 3)], {product["id"]: product}, buyer)
    assert currency == "EUR" and subtotal == 1500 and priced[0]["unit_price_cents"] == 500


@pytest.mark.parametrize("case, error", [("draft", NotFound), ("missing", NotFound), ("own", Conflict),
                                         ("mixed", Invalid)])
def test_price_cart_refuses(case: str, error: type) -> None:
    seller, buyer = uuid.uuid4(), uuid.uuid4()
    a = _product(buyer if case == "own" else seller, status="draft" if case == "draft" else "active")
    b = _product(seller, currency="USD" if case == "mixed" else "EUR")
    products = {} if case == "missing" else {a["id"]: a, b["id"]: b}
    with pytest.raises(error):
        rules.price_cart([rules.CartLine(a["id"], 1), rules.CartLine(b["id"], 1)], products, buyer)


@pytest.mark.parametrize("viewer, role", [("buyer", "buyer"), ("seller", "seller"), ("admin", "admin"),
                                          ("stranger", None)])
def test_order_roles(viewer: str, role: str | None) -> None:
    buyer, seller, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    order = {"buyer_id": buyer, "items": [{"seller_id": seller}, {"seller_id": uuid.uuid4()}],
             "payment": {"client_secret": "s"}}
    who = {"buyer": rules.Principal(buyer, "user"), "seller": rules.Principal(seller, "creator"),
           "admin": rules.Principal(other, "admin"), "stranger": rules.Principal(other, "user")}[viewer]
    assert rules.order_role(order, who) == role
    if role is None:
        with pytest.raises(NotFound):
            rules.order_for(order, who)
    else:
        shown = rules.order_for(order, who)
        assert (shown["payment"]["client_secret"] == "s") == (role == "buyer")
        assert len(shown["items"]) == (1 if role == "seller" else 2)


@pytest.mark.parametrize("body, kind", [
    (b'{"event_id":"e1","event_type":"payment_succeeded","content":{"object":{"payment_id":"p","amount":5,"currency":"eur"}}}',
     "payment_succeeded"),
    (b'{"event_id":"e2","event":"payment.succeeded","content":{"object":{"payment_id":"p"}}}', "payment_succeeded"),
    (b'{"event_id":"e3","event_type":"REFUND_FAILED","content":{"type":"refund_details","object":{"refund_id":"r"}}}',
     "refund_failed"),
])
def test_parse_event(body: bytes, kind: str) -> None:
    event = rules.parse_event(body)
    assert event.event_type == kind
    if event.currency:
        assert event.currency == "EUR"


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"event_id":"e"}', b'{"event_id":"e","content":{"object":{}}}',
                                  b'{"event_id":"  ","event_type":"x","content":{"object":{}}}'])
def test_parse_event_refuses(body: bytes) -> None:
    with pytest.raises(Invalid):
        rules.parse_event(body)
