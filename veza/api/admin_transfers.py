"""Admin view of the platform's payouts: `GET /admin/transfers`, one transfer with its
attempts, and `POST /admin/transfers/:id/retry` (a failed transfer, run now)."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.api.sell import TransferStatus
from veza.domain import payouts
from veza.domain.errors import Invalid, NotFound
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import payouts as store

router = ApiRouter("admin")
_DAY = dt.timedelta(days=1)


class AdminTransferQuery(msgspec.Struct, forbid_unknown_fields=False):
    status: TransferStatus | None = None
    seller_id: UUID | None = None
    created_from: str | None = msgspec.field(default=None, name="from")
    created_to: str | None = msgspec.field(default=None, name="to")
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class AdminTransfer(msgspec.Struct):
    id: UUID
    seller_id: UUID | None
    order_id: UUID
    amount_cents: int
    platform_fee_cents: int
    currency: str
    status: str
    retry_count: int
    next_retry_at: dt.datetime | None
    created_at: dt.datetime


class AdminTransferList(msgspec.Struct):
    transfers: list[AdminTransfer]
    total: int


class Attempt(msgspec.Struct):
    id: UUID
    kind: Literal["transfer", "reversal"]
    idempotency_key: str
    triggered_by: UUID | None
    outcome: str
    error: str | None
    provider_id: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


class TransferDetail(AdminTransfer):
    provider_transfer_id: str | None
    provider_reversal_id: str | None
    last_error: str | None
    updated_at: dt.datetime
    attempts: list[Attempt]


class RetryOut(msgspec.Struct):
    id: UUID
    status: str
    retry_count: int


def parse_bound(name: str, raw: str | None, *, end: bool) -> dt.datetime | None:
    """`from`/`to`: an ISO date (a whole UTC day) or an ISO time (UTC unless it says otherwise).
    The result is the exclusive end for `to`, the inclusive start for `from`."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), dt.UTC)
            return start + _DAY if end else start
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "+"))
    except (ValueError, OverflowError):
        raise Invalid(f"Invalid query parameter '{name}': expected an ISO date or time",
                      details={name: "expected an ISO date (2026-02-24) or time (2026-02-24T10:00:00Z)"}) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    try:
        return moment + dt.timedelta(microseconds=1) if end else moment
    except OverflowError:
        raise Invalid(f"Invalid query parameter '{name}': out of range", details={name: "out of range"}) from None


@router.get("/admin/transfers", query=AdminTransferQuery, response=AdminTransferList, roles=("admin",), scope="admin",
            summary="Every transfer, newest first (status, seller_id, from, to, limit, offset)")
async def list_transfers(request: web.Request, query: AdminTransferQuery, principal: Principal) -> web.Response:
    start = parse_bound("from", query.created_from, end=False)
    end = parse_bound("to", query.created_to, end=True)
    if start is not None and end is not None and start >= end:
        raise Invalid("'from' must be before 'to'", details={"from": "after 'to'"})
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.search(conn, seller_id=query.seller_id, status=query.status, created_from=start,
                                         created_to=end, limit=query.limit, offset=query.offset)
    return ok(AdminTransferList(transfers=msgspec.convert(rows, list[AdminTransfer]), total=total))


@router.get("/admin/transfers/{id}", response=TransferDetail, roles=("admin",), scope="admin",
            summary="One transfer with every attempt (who, when, key, outcome)")
async def get_transfer(request: web.Request, principal: Principal) -> web.Response:
    transfer_id = path_uuid(request)
    async with request.app[keys.db].connection() as conn:
        transfer = await store.get(conn, transfer_id)
        if transfer is None:
            raise NotFound("Transfer not found")
        transfer["attempts"] = await store.attempts(conn, transfer_id)
    return ok(msgspec.convert(transfer, TransferDetail))


@router.post("/admin/transfers/{id}/retry", response=RetryOut, roles=("admin",), scope="admin",
             summary="Run a failed transfer now (409 unless it is failed)")
async def retry_transfer(request: web.Request, principal: Principal) -> web.Response:
    ended = await payouts.retry_now(request.app[keys.payouts].payer, path_uuid(request), principal.user_id)
    return ok({"id": ended["id"], "status": ended["status"], "retry_count": ended["retry_count"]})
