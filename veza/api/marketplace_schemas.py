"""Request and response shapes of the marketplace routes (documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.domain.marketplace import KINDS, MAX_LINES, MAX_QUANTITY
from veza.store.products import SORTS

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
PriceCents = Annotated[int, msgspec.Meta(ge=1, le=100_000_000, description="Integer cents (minor units)")]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$", description="ISO 4217 code")]
Stock = Annotated[int, msgspec.Meta(ge=0, le=10_000_000, description="Units for sale; absent or null = unlimited")]
Kind = Literal[KINDS]  # type: ignore[valid-type]
Sort = Literal[tuple(SORTS)]  # type: ignore[valid-type]
OrderStatus = Literal["pending", "paid", "failed", "expired", "refund_pending", "refunded"]


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    price_cents: PriceCents
    kind: Kind
    description: Description = ""
    currency: Currency = "EUR"
    track_id: UUID | None = None
    stock: Stock | None = None
    status: Literal["active", "draft"] = "active"


class ProductUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    price_cents: PriceCents | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | msgspec.UnsetType = msgspec.UNSET
    kind: Kind | msgspec.UnsetType = msgspec.UNSET
    track_id: UUID | None | msgspec.UnsetType = msgspec.UNSET
    stock: Stock | None | msgspec.UnsetType = msgspec.UNSET
    status: Literal["active", "draft"] | msgspec.UnsetType = msgspec.UNSET


class ProductQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0
    search: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    sort: Sort = "newest"
    seller_id: UUID | None = None


class SellerRef(msgspec.Struct):
    id: UUID
    username: str


class ProductOut(msgspec.Struct):
    id: UUID
    seller_id: UUID
    seller: SellerRef
    title: str
    description: str
    price_cents: int
    currency: str
    kind: str
    track_id: UUID | None
    status: str
    stock: int | None
    stock_remaining: int | None
    sold: int
    rating_avg: float | None
    review_count: int
    downloadable: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductList(msgspec.Struct):
    products: list[ProductOut]
    total: int


class ProductRemoved(msgspec.Struct):
    message: str
    status: Literal["deleted", "archived"]


class CartItem(msgspec.Struct, forbid_unknown_fields=False):  # extra fields (a price...) are never read
    product_id: UUID
    quantity: Annotated[int, msgspec.Meta(ge=1, le=MAX_QUANTITY)] = 1


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[CartItem], msgspec.Meta(min_length=1, max_length=MAX_LINES)]
    payment_method: Literal["card"] = "card"
    live_stream_id: UUID | None = None


class OrderItemOut(msgspec.Struct):
    id: UUID
    product_id: UUID
    seller_id: UUID | None
    title: str
    unit_price_cents: int
    quantity: int


class PaymentOut(msgspec.Struct):
    provider: str
    payment_id: str
    client_secret: str | None
    status: str


class OrderOut(msgspec.Struct):
    id: UUID
    buyer_id: UUID | None
    status: OrderStatus
    currency: str
    subtotal_cents: int
    total_cents: int
    payment_method: str
    items: list[OrderItemOut]
    payment: PaymentOut | None
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    paid_at: dt.datetime | None
    refunded_at: dt.datetime | None
    checkout_url: str | None = None


class OrderQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0
    status: OrderStatus | None = None


class OrderList(msgspec.Struct):
    orders: list[OrderOut]
    total: int


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    details: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class RefundOut(msgspec.Struct):
    message: str
    refund_id: UUID
    status: str


class PageQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ReviewOut(msgspec.Struct):
    id: UUID
    product_id: UUID
    buyer_id: UUID | None
    order_id: UUID
    rating: int
    comment: str
    created_at: dt.datetime


class ReviewList(msgspec.Struct):
    reviews: list[ReviewOut]


class PurchaseOut(msgspec.Struct):
    id: UUID
    order_id: UUID
    product_id: UUID
    title: str
    kind: str
    created_at: dt.datetime
    downloadable: bool


class PurchaseList(msgspec.Struct):
    purchases: list[PurchaseOut]
    total: int


class DownloadLink(msgspec.Struct):
    download_url: str
    expires_at: dt.datetime


class SignedQuery(msgspec.Struct, forbid_unknown_fields=False):
    expires: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    signature: Annotated[str, msgspec.Meta(max_length=128)] | None = None


class SandboxConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    client_secret: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    outcome: Literal["succeed", "decline"]


class SandboxConfirmOut(msgspec.Struct):
    payment_id: str
    status: str


class WebhookAck(msgspec.Struct):
    received: bool
    outcome: str
