"""The seller's side of payouts: Connect onboarding, account state, balance, transfers and
the last 30 days' sales."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.domain import sellers
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter
from veza.store import payouts as store
from veza.store import users as user_store

router = ApiRouter("sell")
SELL_PAGE = "/static/sell.html"
SALES_DAYS = 30

TransferStatus = Literal["pending", "processing", "completed", "failed", "canceled", "reversal_pending", "reversed"]


class OnboardOut(msgspec.Struct):
    onboarding_url: str


class ConnectStatusOut(msgspec.Struct):
    connected: bool
    provider: str | None
    account_id: str | None
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool


class BalanceOut(msgspec.Struct):
    connected: bool
    available: int
    pending: int
    currency: str


class TransferQuery(msgspec.Struct, forbid_unknown_fields=False):
    status: TransferStatus | None = None
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class SellerTransfer(msgspec.Struct):
    id: UUID
    order_id: UUID
    amount_cents: int
    platform_fee_cents: int
    currency: str
    status: str
    retry_count: int
    next_retry_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SellerTransferList(msgspec.Struct):
    transfers: list[SellerTransfer]
    total: int


class SalesDay(msgspec.Struct):
    day: dt.date
    orders: int
    gross_cents: int
    net_cents: int


class SalesOut(msgspec.Struct):
    days: list[SalesDay]
    currency: str


def _page_url(request: web.Request, outcome: str) -> str:
    return f"{request.app[keys.settings].app_domain.rstrip('/')}{SELL_PAGE}?onboarding={outcome}"


@router.post("/sell/connect/onboard", response=OnboardOut, roles=("creator",), scope="marketplace",
             summary="A Stripe Connect onboarding link (the seller's Express account is created on the first call)")
async def onboard(request: web.Request, principal: Principal) -> web.Response:
    app = request.app
    async with app[keys.db].connection() as conn:
        user = await user_store.get_user(conn, principal.user_id)
    url = await sellers.onboard(app[keys.db], app[keys.payouts].connect, principal.user_id, user["email"],
                                refresh_url=_page_url(request, "refresh"), return_url=_page_url(request, "return"))
    return ok({"onboarding_url": url})


@router.get("/sell/connect/status", response=ConnectStatusOut, auth="required", scope="marketplace",
            summary="My payout account's state (read afresh from Stripe until payouts are enabled)")
async def connect_status(request: web.Request, principal: Principal) -> web.Response:
    app = request.app
    state = app[keys.payouts]
    return ok(await sellers.status(app[keys.db], state.connect, principal.user_id, state.payer.clock(),
                                   lambda: state.wake("account enabled")))


@router.get("/sell/balance", response=BalanceOut, auth="required", scope="marketplace",
            summary="My Stripe Connect balance in cents (cached for at most 30 s)")
async def balance(request: web.Request, principal: Principal) -> web.Response:
    app = request.app
    state = app[keys.payouts]
    return ok(await sellers.balance(app[keys.db], state.connect, state.balances, principal.user_id,
                                    app[keys.settings].platform_currency))


@router.get("/sell/transfers", query=TransferQuery, response=SellerTransferList, auth="required", scope="marketplace",
            summary="My payouts, newest first (status filter, limit, offset)")
async def transfers(request: web.Request, query: TransferQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.search(conn, seller_id=principal.user_id, status=query.status, created_from=None,
                                         created_to=None, limit=query.limit, offset=query.offset)
    return ok(SellerTransferList(transfers=msgspec.convert(rows, list[SellerTransfer]), total=total))


@router.get("/sell/sales", response=SalesOut, auth="required", scope="marketplace",
            summary="My sales per day over the last 30 days (orders, gross and net cents)")
async def sales(request: web.Request, principal: Principal) -> web.Response:
    app = request.app
    today = app[keys.payouts].payer.clock().astimezone(dt.UTC).date()
    since = dt.datetime.combine(today - dt.timedelta(days=SALES_DAYS - 1), dt.time(), dt.UTC)
    async with app[keys.db].connection() as conn:
        days = await store.daily_sales(conn, principal.user_id, since)
    return ok({"days": days, "currency": app[keys.settings].platform_currency})
