"""Marketplace rules: who may sell what, how an order is priced and paid, and the one state
machine every payment event goes through.

Orders move forward only:

    pending -> paid -> refund_pending -> refunded
       |                     |
       +-> failed / expired  +-> paid (the refund failed)

Each move is a conditional UPDATE (`store.orders.move`), and every provider event is
recorded by its id before it is applied, so a replay, a second node or a webhook racing
the client never applies a transition twice. Stock is reserved when an order is placed
(one conditional UPDATE per product), committed when it is paid, and released when it
fails or expires; a refund puts it back on sale.
"""

from __future__ import annotations

import asyncio
import dataclasses
import decimal
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec

from veza.domain import notifications
from veza.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, SoldOut
from veza.domain.text import required
from veza.domain.unit_of_work import UnitOfWork, unit_of_work
from veza.services.payments import PaymentProvider
from veza.store import audit as audit_store
from veza.store import orders as order_store
from veza.store import products as product_store
from veza.store import tracks as track_store

log = logging.getLogger("veza.marketplace")

KINDS = ("track", "album", "sample_pack", "merch", "ticket")
SELLER_ROLES = ("creator", "admin")
MAX_LINES = 50
MAX_QUANTITY = 100
# What a buyer can hold: an order whose money the platform has.
OWNED_STATUSES = ("paid", "refund_pending", "refunded")
INVOICED_STATUSES = OWNED_STATUSES


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who acts: the edge's principal reduced to what the rules read."""
    user_id: UUID
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclasses.dataclass(frozen=True, slots=True)
class Announcer:
    """How committed changes reach people, bound to the app by the edge (run after COMMIT)."""
    order_updated: Callable[[dict[str, Any]], Any]  # the order, to its buyer's sockets
    notify: Callable[[dict[str, Any]], Any]  # a stored notification, to its user's sockets
    stream_sale: Callable[[UUID, dict[str, Any]], Any] | None = None  # live shopping


# Products.

async def create_product(conn: asyncpg.Connection, actor: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    if actor.role not in SELLER_ROLES:
        raise Forbidden("Only creators can sell: ask an admin for the creator role")
    fields = dict(fields)
    fields["currency"] = fields.get("currency", "EUR").upper()
    if fields["kind"] == "track" and fields.get("track_id") is None:
        raise Invalid("track_id is required for a product of kind 'track'", details={"track_id": "required"})
    if fields.get("track_id") is not None:
        await _check_own_track(conn, actor, fields["track_id"])
    return await product_store.create(conn, actor.user_id, fields)


async def _check_own_track(conn: asyncpg.Connection, actor: Principal, track_id: UUID) -> None:
    try:
        owner = await track_store.owner_of(conn, track_id)
    except NotFound:
        raise Invalid("track_id names no track", details={"track_id": "unknown track"}) from None
    if owner != actor.user_id:
        raise Invalid("track_id must be one of your own tracks", details={"track_id": "not yours"})


async def _own_product(conn: asyncpg.Connection, actor: Principal, product_id: UUID) -> dict[str, Any]:
    product = await product_store.get(conn, product_id, for_update=True)
    if product["seller_id"] != actor.user_id and not actor.is_admin:
        raise Forbidden("Only the product's seller can change it")
    return product


async def update_product(conn: asyncpg.Connection, actor: Principal, product_id: UUID,
                         changes: dict[str, Any]) -> dict[str, Any]:
    product = await _own_product(conn, actor, product_id)
    if product["status"] == "archived":
        raise Conflict("This product is archived; create a new one")
    changes = dict(changes)
    if "currency" in changes:
        changes["currency"] = changes["currency"].upper()
    kind = changes.get("kind", product["kind"])
    track_id = changes["track_id"] if "track_id" in changes else product["track_id"]
    if kind == "track" and track_id is None:
        raise Invalid("track_id is required for a product of kind 'track'", details={"track_id": "required"})
    if changes.get("track_id") is not None:
        await _check_own_track(conn, actor, changes["track_id"])
    if changes.get("stock") is not None:
        held = await product_store.units_held(conn, product_id)
        if changes["stock"] < held:
            raise Conflict(f"stock cannot go below the {held} units already sold or reserved",
                           details={"stock": f"at least {held}"})
    # Orders keep the price they were placed at: a new price applies to new orders only.
    return await product_store.update(conn, product_id, changes)


async def remove_product(conn: asyncpg.Connection, actor: Principal, product_id: UUID) -> str:
    """'deleted', or 'archived' for a product already ordered (orders and invoices keep it)."""
    await _own_product(conn, actor, product_id)
    if await product_store.ever_ordered(conn, product_id):
        await product_store.archive(conn, product_id)
        return "archived"
    await product_store.delete(conn, product_id)
    return "deleted"


def can_see_product(product: dict[str, Any], viewer: Principal | None) -> bool:
    """Active products are public; drafts and archived ones only to their seller and admins."""
    if product["status"] == "active":
        return True
    return viewer is not None and (viewer.user_id == product["seller_id"] or viewer.is_admin)


# Checkout.

@dataclasses.dataclass(frozen=True, slots=True)
class CartLine:
    product_id: UUID
    quantity: int


def merge_cart(lines: Sequence[CartLine]) -> list[CartLine]:
    """The cart's lines, one per product (a product listed twice adds up), in a fixed order:
    reserving in product-id order means two carts never wait on each other's rows."""
    if not lines:
        raise Invalid("items must list at least one product", details={"items": "empty"})
    if len(lines) > MAX_LINES:
        raise Invalid(f"An order holds at most {MAX_LINES} lines", details={"items": f"at most {MAX_LINES}"})
    totals: dict[UUID, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    for product_id, quantity in totals.items():
        if not 1 <= quantity <= MAX_QUANTITY:
            raise Invalid(f"quantity must be between 1 and {MAX_QUANTITY}",
                          details={"items": f"quantity of {product_id} out of range"})
    return [CartLine(pid, totals[pid]) for pid in sorted(totals, key=str)]


def price_cart(lines: Sequence[CartLine], products: dict[UUID, dict[str, Any]],
               buyer_id: UUID) -> tuple[list[dict[str, Any]], str, int]:
    """(priced lines, currency, subtotal) from the products as they are now: a price the
    client sent is never read."""
    priced, currencies = [], set()
    for line in lines:
        product = products.get(line.product_id)
        if product is None or product["status"] != "active":
            raise NotFound(f"Product {line.product_id} is not for sale", details={"product_id": str(line.product_id)})
        if product["seller_id"] == buyer_id:
            raise Conflict("You cannot buy your own product", details={"product_id": str(line.product_id)})
        currencies.add(product["currency"])
        priced.append({"product_id": product["id"], "seller_id": product["seller_id"], "title": product["title"],
                       "unit_price_cents": product["price_cents"], "quantity": line.quantity})
    if len(currencies) > 1:
        raise Invalid("All items of an order must share one currency",
                      details={"items": "mixed currencies: " + ", ".join(sorted(currencies))})
    subtotal = sum(p["unit_price_cents"] * p["quantity"] for p in priced)
    return priced, currencies.pop(), subtotal


@dataclasses.dataclass(frozen=True, slots=True)
class Checkout:
    buyer: Principal
    lines: list[CartLine]
    payment_method: str
    idempotency_key: str | None
    request_hash: str | None
    anonymous: bool
    ttl: int
    return_url: str  # where the provider sends the buyer back; "{order_id}" is filled in
    live_stream_id: UUID | None = None


async def place_order(db: Any, provider: PaymentProvider, checkout: Checkout) -> tuple[dict[str, Any], bool]:
    """(order, created): a new pending order holding its stock with a payment at the
    provider, or the order this idempotency key already made (created False)."""
    lines = merge_cart(checkout.lines)
    buyer = checkout.buyer.user_id
    if checkout.idempotency_key is not None:
        async with db.connection() as conn:
            earlier = await _earlier_order(conn, checkout)
        if earlier is not None:
            return earlier, False
    order_id = uuid.uuid4()
    try:
        async with db.connection() as conn:
            products = await product_store.many(conn, [line.product_id for line in lines])
            priced, currency, subtotal = price_cart(lines, products, buyer)
            for line in lines:  # a drop that is over answers at once, without writing anything
                left = products[line.product_id]["stock_remaining"]
                if left is not None and left < line.quantity:
                    raise _sold_out(products[line.product_id])
            fields = dict(order_id=order_id, buyer_id=buyer, currency=currency, subtotal_cents=subtotal,
                          payment_method=checkout.payment_method, idempotency_key=checkout.idempotency_key,
                          request_hash=checkout.request_hash, anonymous=checkout.anonymous,
                          live_stream_id=checkout.live_stream_id, ttl=checkout.ttl)
            placed = await _place(conn, lines, priced, products, fields)
    except asyncpg.UniqueViolationError:
        # The same key raced us: the other request's order is the answer (nothing of ours was kept).
        async with db.connection() as conn:
            earlier = await _earlier_order(conn, checkout)
        if earlier is None:
            raise
        return earlier, False
    order = {"id": order_id, "buyer_id": buyer, "status": "pending", "currency": currency,
             "subtotal_cents": subtotal, "total_cents": subtotal, "payment_method": checkout.payment_method,
             "flagged_reason": None, "live_stream_id": checkout.live_stream_id, "paid_at": None, "refunded_at": None,
             "items": [{"id": placed["item_ids"][p["product_id"]], **p} for p in priced], "payment": None,
             **{k: placed[k] for k in ("anonymous", "created_at", "updated_at", "expires_at")}}
    try:
        intent = await provider.create_payment(
            order_id=str(order_id), amount_cents=subtotal, currency=currency,
            description=", ".join(p["title"] for p in priced)[:255],
            return_url=checkout.return_url.replace("{order_id}", str(order_id)))
    except BaseException:
        await forget_unpaid(db, order_id, lines)
        raise
    return await record_payment(db, provider.name, order, intent), True


async def _place(conn: asyncpg.Connection, lines: list[CartLine], priced: list[dict[str, Any]],
                 products: dict[UUID, dict[str, Any]], fields: dict[str, Any]) -> dict[str, Any]:
    """Reserve and insert. One line (a drop's checkout): one statement, the row lock held
    for that statement and its commit. Several: one transaction that inserts first and
    reserves last, in product-id order (two carts never wait on each other's rows)."""
    if len(lines) == 1:
        placed = await order_store.place_one_line(conn, line=priced[0], **fields)
        if placed is None:
            raise _sold_out(products[lines[0].product_id])
        return placed
    async with conn.transaction():
        placed = await order_store.insert(conn, lines=priced, **fields)
        for line in lines:
            if not await product_store.reserve(conn, line.product_id, line.quantity):
                raise _sold_out(products[line.product_id])
    return placed


async def forget_unpaid(db: Any, order_id: UUID, lines: Sequence[CartLine]) -> None:
    """No payment, no order: give the stock back and forget the order."""
    async with db.transaction() as conn:
        await product_store.release(conn, [(line.product_id, line.quantity) for line in lines])
        await order_store.delete_unpaid(conn, order_id)


async def record_payment(db: Any, provider: str, order: dict[str, Any], intent: Any) -> dict[str, Any]:
    """Store the provider's payment of a new order; the order as its buyer sees it."""
    async with db.connection() as conn:
        await order_store.insert_payment(conn, order_id=order["id"], provider=provider, payment_id=intent.payment_id,
                                         client_secret=intent.client_secret, status=intent.status,
                                         amount_cents=order["total_cents"], currency=order["currency"])
    return {**order, "payment": {"provider": provider, "payment_id": intent.payment_id,
                                 "client_secret": intent.client_secret, "status": intent.status}}


def _sold_out(product: dict[str, Any]) -> SoldOut:
    return SoldOut(f"Not enough stock left of {product['title']!r}", details={"product_id": str(product["id"])})


async def _earlier_order(conn: asyncpg.Connection, checkout: Checkout) -> dict[str, Any] | None:
    assert checkout.idempotency_key is not None
    found = await order_store.by_idempotency_key(conn, checkout.buyer.user_id, checkout.idempotency_key)
    if found is None:
        return None
    order_id, request_hash = found
    if request_hash != checkout.request_hash:
        raise Conflict("This Idempotency-Key was already used with another request body",
                       details={"idempotency_key": "reused with a different body"})
    return await order_store.get(conn, order_id)


def order_role(order: dict[str, Any], viewer: Principal) -> str | None:
    """'buyer', 'seller' (of one of its lines), 'admin', or None: the order is not theirs."""
    if order["buyer_id"] == viewer.user_id:
        return "buyer"
    if any(item["seller_id"] == viewer.user_id for item in order["items"]):
        return "seller"
    return "admin" if viewer.is_admin else None


def order_for(order: dict[str, Any], viewer: Principal) -> dict[str, Any]:
    """The order as `viewer` may see it: 404 when it is not theirs; the payment's client
    secret is the buyer's alone; a seller sees only their own lines."""
    role = order_role(order, viewer)
    if role is None:
        raise NotFound("Order not found")
    if role == "buyer":
        return order
    shown = dict(order)
    if shown["payment"] is not None:
        shown["payment"] = {**shown["payment"], "client_secret": None}
    if role == "seller":
        shown["items"] = [i for i in order["items"] if i["seller_id"] == viewer.user_id]
    return shown


async def get_order(conn: asyncpg.Connection, viewer: Principal, order_id: UUID) -> dict[str, Any]:
    return order_for(await order_store.get(conn, order_id), viewer)


# Payment events.

@dataclasses.dataclass(frozen=True, slots=True)
class PaymentEvent:
    event_id: str
    event_type: str  # normalised: payment_succeeded, refund_failed, ...
    payment_id: str | None
    refund_id: str | None
    status: str | None
    amount: int | None
    currency: str | None


class _EventObject(msgspec.Struct, forbid_unknown_fields=False):
    payment_id: str | None = None
    refund_id: str | None = None
    status: str | None = None
    amount: int | None = None
    currency: str | None = None


class _EventContent(msgspec.Struct, forbid_unknown_fields=False):
    object: _EventObject
    type: str | None = None


class _EventBody(msgspec.Struct, forbid_unknown_fields=False):
    event_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    content: _EventContent
    event_type: str | None = None
    event: str | None = None  # the API reference's spelling


def parse_event(body: bytes) -> PaymentEvent:
    """A provider webhook body: Hyperswitch's shape, with dotted names (`payment.succeeded`)
    accepted too. Malformed bodies are a 400 (the provider retries non-2xx; this one won't improve)."""
    try:
        raw = msgspec.json.decode(body, type=_EventBody)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Invalid(f"Malformed webhook body: {exc}", details={"body": "not a payment event"}) from None
    kind = (raw.event_type or raw.event or "").strip().lower().replace(".", "_")
    if not kind or not raw.event_id.strip():
        raise Invalid("Webhook body names no event", details={"event_type": "required"})
    obj = raw.content.object
    return PaymentEvent(raw.event_id.strip(), kind, obj.payment_id, obj.refund_id, obj.status, obj.amount,
                        obj.currency.upper() if obj.currency else None)


def stored_payload(body: bytes) -> str:
    """The event's body as PostgreSQL jsonb can hold it: jsonb refuses U+0000, which valid
    JSON may carry as an escape, so NULs are dropped from the stored copy (never from what
    the signature was checked on)."""
    if b"\\u0000" not in body:
        return body.decode("utf-8", "replace")

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\x00", "")
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        return value

    return msgspec.json.encode(clean(msgspec.json.decode(body))).decode()


PAYMENT_FAILED = ("payment_failed", "payment_cancelled", "payment_expired")


async def apply_event(db: Any, provider: str, event: PaymentEvent, payload: str, *, fee_rate: float,
                      announce: Announcer) -> str:
    """Apply one provider event once. Returns what became of it: 'applied', 'replay',
    'ignored' (unknown type, payment or a move already made) or 'flagged'."""
    async with unit_of_work(db) as uow:
        if not await order_store.record_event(uow.conn, provider, event.event_id, event.event_type, payload):
            return "replay"
        outcome = await _apply(uow, provider, event, fee_rate, announce)
        if outcome != "applied":
            await order_store.set_event_outcome(uow.conn, provider, event.event_id, outcome)
    if outcome != "applied":
        log.info("payment event %s (%s, payment %s): %s", event.event_id, event.event_type, event.payment_id, outcome)
    return outcome


async def _apply(uow: UnitOfWork, provider: str, event: PaymentEvent, fee_rate: float, announce: Announcer) -> str:
    conn = uow.conn
    order_id = await order_store.order_of_payment(conn, provider, event.payment_id) if event.payment_id else None
    if order_id is None:
        return "ignored"
    order = await order_store.get(conn, order_id, for_update=True)  # one event of an order at a time
    lines = [(i["product_id"], i["quantity"]) for i in order["items"]]
    kind = event.event_type
    if kind == "payment_succeeded":
        if (event.amount, event.currency) != (order["total_cents"], order["currency"]):
            return await _flag(uow, order, "amount_mismatch",
                               f"paid {event.amount} {event.currency}, order is {order['total_cents']} {order['currency']}")
        if order["status"] in ("failed", "expired"):
            return await _flag(uow, order, "paid_after_close", f"payment succeeded on a {order['status']} order")
        if not await order_store.move(conn, order_id, ("pending",), "paid"):
            return "ignored"
        await order_store.set_payment_status(conn, order_id, "succeeded")
        await product_store.commit_sold(conn, lines)
        await order_store.grant_purchases(conn, order_id)
        await order_store.create_transfers(conn, order_id, payout_rows(order, fee_rate))
        await _announce_sale(uow, order, announce)
        await _announce_live_sales(uow, order, announce)
    elif kind in PAYMENT_FAILED:
        if not await order_store.move(conn, order_id, ("pending",), "failed"):
            return "ignored"
        await order_store.set_payment_status(conn, order_id, event.status or kind.removeprefix("payment_"))
        await product_store.release(conn, lines)
    elif kind in ("refund_succeeded", "refund_failed"):
        refund_id = _our_refund_id(event) or await order_store.pending_refund_of(conn, order_id)
        refund = await order_store.get_refund(conn, refund_id) if refund_id else None
        if refund is None or refund["order_id"] != order_id:
            return "ignored"
        succeeded = kind == "refund_succeeded"
        if not await order_store.set_refund(conn, refund["id"], source="pending",
                                            target="succeeded" if succeeded else "failed",
                                            provider_refund_id=event.refund_id):
            return "ignored"
        if succeeded:
            await order_store.move(conn, order_id, ("refund_pending",), "refunded")
            await order_store.revoke_purchases(conn, order_id)
            await product_store.return_sold(conn, lines)
            await order_store.undo_transfers(conn, order_id)
        else:
            await order_store.move(conn, order_id, ("refund_pending",), "paid")
        await notifications.notify(uow, announce.notify, user_id=order["buyer_id"], actor_id=None,
                                   kind="refund_updated", subject_id=order_id,
                                   data={"order_id": str(order_id), "refund_id": str(refund["id"]),
                                         "status": "succeeded" if succeeded else "failed"})
    else:
        return "ignored"
    uow.after_commit(announce.order_updated, await order_store.get(conn, order_id))
    return "applied"


def _our_refund_id(event: PaymentEvent) -> UUID | None:
    try:
        return UUID(event.refund_id) if event.refund_id else None
    except ValueError:
        return None


async def _flag(uow: UnitOfWork, order: dict[str, Any], reason: str, detail: str) -> str:
    """Money and order disagree: nothing moves; a person looks at it (log + audit trail)."""
    await order_store.flag(uow.conn, order["id"], reason)
    log.warning("order %s flagged (%s): %s", order["id"], reason, detail)
    await audit_store.insert_one(uow.conn, user_id=None, action="FLAG", resource=f"/marketplace/orders/{order['id']}",
                                 route=reason, status=409, via="webhook")
    return "flagged"


async def _announce_sale(uow: UnitOfWork, order: dict[str, Any], announce: Announcer) -> None:
    by_seller: dict[UUID, list[dict[str, Any]]] = {}
    for item in order["items"]:
        if item["seller_id"] is not None:
            by_seller.setdefault(item["seller_id"], []).append(item)
    for seller_id, items in by_seller.items():
        await notifications.notify(
            uow, announce.notify, user_id=seller_id, actor_id=None if order["anonymous"] else order["buyer_id"],
            kind="sale", subject_id=order["id"],
            data={"order_id": str(order["id"]), "currency": order["currency"],
                  "amount_cents": sum(i["unit_price_cents"] * i["quantity"] for i in items),
                  "items": [{"product_id": str(i["product_id"]), "title": i["title"], "quantity": i["quantity"]}
                            for i in items]})


async def _announce_live_sales(uow: UnitOfWork, order: dict[str, Any], announce: Announcer) -> None:
    """Live shopping: each live stream showing a product of this order tells its watchers."""
    if announce.stream_sale is None:
        return
    sales = await product_store.live_sales(uow.conn, [i["product_id"] for i in order["items"]])
    if not sales:
        return
    buyer = "anonymous"
    if not order["anonymous"] and order["buyer_id"] is not None:
        buyer = (await order_store.seller_names(uow.conn, [order["buyer_id"]])).get(order["buyer_id"], "anonymous")
    for sale in sales:
        uow.after_commit(announce.stream_sale, sale["stream_id"], {
            "product_id": str(sale["product_id"]), "buyer": buyer, "sold": sale["sold"],
            "remaining": sale["remaining"]})


MAX_PINNED = 20


async def pin_products(conn: asyncpg.Connection, actor: Principal, stream: dict[str, Any],
                       product_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    """The streamer's own active products, pinned in this order to their stream."""
    if stream["owner_id"] != actor.user_id and not actor.is_admin:
        raise Forbidden("Only the stream's owner can pin products to it")
    unique = list(dict.fromkeys(product_ids))
    if len(unique) > MAX_PINNED:
        raise Invalid(f"At most {MAX_PINNED} products can be pinned", details={"product_ids": f"at most {MAX_PINNED}"})
    products = await product_store.many(conn, unique)
    for product_id in unique:
        product = products.get(product_id)
        if product is None or product["status"] != "active" or product["seller_id"] != stream["owner_id"]:
            raise Invalid("Only the streamer's own active products can be pinned",
                          details={"product_ids": f"{product_id} is not one of the streamer's active products"})
    await product_store.set_pinned(conn, stream["id"], unique)
    return await product_store.pinned(conn, stream["id"])


def platform_fee(cents: int, rate: float) -> int:
    """The platform's cut, rounded half up: 10% of 2999 is 300."""
    exact = decimal.Decimal(cents) * decimal.Decimal(str(rate))
    return int(exact.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))


def payout_rows(order: dict[str, Any], fee_rate: float) -> list[tuple[UUID, int, int, str]]:
    """One (seller, amount, fee, currency) per seller: their lines minus the platform's cut."""
    lines: dict[UUID, int] = {}
    for item in order["items"]:
        if item["seller_id"] is not None:
            lines[item["seller_id"]] = lines.get(item["seller_id"], 0) + item["unit_price_cents"] * item["quantity"]
    rows = []
    for seller_id, cents in lines.items():
        fee = platform_fee(cents, fee_rate)
        rows.append((seller_id, cents - fee, fee, order["currency"]))
    return rows


# Expiry: orders nobody paid in time give their stock back.

async def expire_due_orders(db: Any, announce: Announcer, provider: PaymentProvider | None = None,
                            limit: int = 200) -> int:
    """Expire unpaid orders past their window: stock back, buyer told, and (after commit,
    best effort) the payment voided at the provider so it can no longer be paid. A payment
    that succeeds anyway finds an expired order and is flagged (`_apply`)."""
    voided: list[str] = []
    async with unit_of_work(db) as uow:
        expired = 0
        for order_id in await order_store.due_for_expiry(uow.conn, limit):
            if await order_store.move(uow.conn, order_id, ("pending",), "expired"):
                order = await order_store.get(uow.conn, order_id)
                await product_store.release(uow.conn, [(i["product_id"], i["quantity"]) for i in order["items"]])
                await order_store.set_payment_status(uow.conn, order_id, "cancelled")
                uow.after_commit(announce.order_updated, order)
                if order["payment"] is not None:
                    voided.append(order["payment"]["payment_id"])
                expired += 1
    if provider is not None and voided:  # concurrently: one slow provider call must not hold the sweep
        results = await asyncio.gather(*(provider.cancel_payment(payment_id=p, reason="order expired unpaid")
                                         for p in voided), return_exceptions=True)
        for payment_id, result in zip(voided, results):
            if isinstance(result, BaseException):
                log.warning("could not void payment %s of an expired order: %r", payment_id, result)
    return expired


# Refunds.

async def request_refund(db: Any, provider: PaymentProvider, actor: Principal, order_id: UUID, *, reason: str,
                         details: str) -> dict[str, Any]:
    reason = required(reason, "reason")
    async with db.transaction() as conn:
        order = await order_store.get(conn, order_id, for_update=True)
        if order_role(order, actor) is None:
            raise Forbidden("Only the buyer or a seller of this order can ask for a refund")
        if order["status"] in ("refund_pending", "refunded"):
            raise Conflict("This order already has a refund", details={"status": order["status"]})
        if order["status"] != "paid" or order["payment"] is None:
            raise Conflict("Only a paid order can be refunded", details={"status": order["status"]})
        refund_id = await order_store.insert_refund(conn, order_id=order_id, requested_by=actor.user_id,
                                                    reason=reason, details=details.strip(),
                                                    amount_cents=order["total_cents"], currency=order["currency"])
        if refund_id is None or not await order_store.move(conn, order_id, ("paid",), "refund_pending"):
            raise Conflict("This order already has a refund")
    try:
        started = await provider.create_refund(payment_id=order["payment"]["payment_id"], refund_id=str(refund_id),
                                               amount_cents=order["total_cents"], reason=reason)
    except (DomainError, OSError):
        async with db.transaction() as conn:
            await order_store.set_refund(conn, refund_id, source="pending", target="failed")
            await order_store.move(conn, order_id, ("refund_pending",), "paid")
        raise
    return {"message": "Refund initiated", "refund_id": refund_id, "status": "pending",
            "provider_status": started.status}


# Reviews.

async def create_review(conn: asyncpg.Connection, actor: Principal, product_id: UUID, *, rating: int,
                        comment: str) -> dict[str, Any]:
    await product_store.get(conn, product_id)  # 404 first
    order_id = await order_store.reviewable_order(conn, actor.user_id, product_id)
    if order_id is None:
        raise Forbidden("Only a buyer with a paid order of this product can review it")
    review = await product_store.create_review(conn, product_id=product_id, buyer_id=actor.user_id,
                                               order_id=order_id, rating=rating, comment=comment.strip())
    if review is None:
        raise Conflict("You already reviewed this product")
    return review


# Purchases.

async def purchase_file(conn: asyncpg.Connection, purchase_id: UUID,
                        buyer: UUID | None) -> tuple[dict[str, Any], str, str]:
    """(purchase, storage key, content type) of what a purchase downloads; 404 for anyone but
    its buyer (`buyer` None: a signed link already proved who asked), and once revoked."""
    purchase = await order_store.get_purchase(conn, purchase_id)
    if purchase is None or purchase["revoked_at"] is not None or (buyer is not None and purchase["buyer_id"] != buyer):
        raise NotFound("Purchase not found")
    if purchase["track_id"] is not None:
        track = await track_store.get_track(conn, purchase["track_id"], with_file=True)
        return purchase, track["file_key"], track["mime_type"]
    if purchase["file_key"]:
        return purchase, purchase["file_key"], "application/octet-stream"
    raise NotFound("This purchase has nothing to download (merch and tickets are delivered by the seller)")
