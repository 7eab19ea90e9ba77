"""Checkout and after: orders, invoices, refunds, and what buyers own (purchases)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from typing import Any

import msgspec
from aiohttp import web

from veza import keys
from veza.api.downloads import content_disposition, send_stored
from veza.api.marketplace import actor
from veza.api.marketplace_schemas import (DownloadLink, OrderIn, OrderList, OrderOut, OrderQuery, PageQuery,
                                          PurchaseList, RefundIn, RefundOut, SignedQuery)
from veza.domain import invoices
from veza.domain import marketplace as rules
from veza.domain.errors import Invalid, NotFound
from veza.http.auth import Principal
from veza.http.edge.privacy import do_not_sell
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import orders as store

router = ApiRouter("marketplace")
CHECKOUT_PAGE = "/static/checkout.html?order={order_id}"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _idempotency(request: web.Request, body: OrderIn) -> tuple[str | None, str | None]:
    """(key, hash of the body it comes with): the same key with another body is a conflict."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None, None
    if not _IDEMPOTENCY_KEY.match(key):
        raise Invalid("Idempotency-Key must be 1 to 255 visible ASCII characters",
                      details={"Idempotency-Key": "1-255 visible ASCII characters"})
    return key, hashlib.sha256(msgspec.json.encode(body)).hexdigest()


def _with_checkout_url(order: dict[str, Any], principal: Principal) -> dict[str, Any]:
    if order["buyer_id"] == principal.user_id and order["status"] == "pending":
        return {**order, "checkout_url": CHECKOUT_PAGE.format(order_id=order["id"])}
    return order


@router.post("/marketplace/orders", body=OrderIn, response=OrderOut, status=201, auth="required", errors=(409, 502),
             summary="Check out: reserve stock and open a payment (Idempotency-Key header honoured)")
async def create_order(request: web.Request, body: OrderIn, principal: Principal) -> web.Response:
    app = request.app
    settings = app[keys.settings]
    key, body_hash = _idempotency(request, body)
    checkout = rules.Checkout(
        buyer=actor(principal), lines=[rules.CartLine(i.product_id, i.quantity) for i in body.items],
        payment_method=body.payment_method, idempotency_key=key, request_hash=body_hash,
        anonymous=do_not_sell(request), ttl=settings.order_payment_timeout,
        return_url=settings.app_domain.rstrip("/") + CHECKOUT_PAGE, live_stream_id=body.live_stream_id)
    order, _ = await rules.place_order(app[keys.db], app[keys.marketplace].provider, checkout)
    return ok(_with_checkout_url(order, principal), status=201)


@router.get("/marketplace/orders", query=OrderQuery, response=OrderList, auth="required",
            summary="My orders, newest first")
async def list_orders(request: web.Request, query: OrderQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        orders, total = await store.list_for_buyer(conn, principal.user_id, status=query.status,
                                                   limit=query.limit, offset=query.offset)
    return ok({"orders": [_with_checkout_url(o, principal) for o in orders], "total": total})


@router.get("/marketplace/orders/{id}", response=OrderOut, auth="required",
            summary="One order (its buyer, a seller of one of its items, or an admin)")
async def get_order(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        order = await rules.get_order(conn, actor(principal), path_uuid(request))
    return ok(_with_checkout_url(order, principal))


@router.get("/marketplace/orders/{id}/invoice", auth="required", produces="application/pdf", errors=(409,),
            summary="The order's invoice as a PDF (buyer only; paid or refunded orders)")
async def get_invoice(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        invoice = await invoices.invoice_for(conn, actor(principal), path_uuid(request))
    pdf = await asyncio.get_running_loop().run_in_executor(request.app[keys.cpu_pool], invoices.render_pdf, invoice)
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{invoice.number}.pdf"', "Cache-Control": "private, no-store"})


@router.post("/marketplace/orders/{id}/refund", body=RefundIn, response=RefundOut, auth="required", errors=(409, 502),
             summary="Ask for a refund of a paid order (its buyer or a seller of one of its items)")
async def refund_order(request: web.Request, body: RefundIn, principal: Principal) -> web.Response:
    app = request.app
    result = await rules.request_refund(app[keys.db], app[keys.marketplace].provider, actor(principal),
                                        path_uuid(request), reason=body.reason, details=body.details)
    return ok({k: result[k] for k in ("message", "refund_id", "status")})


@router.get("/marketplace/purchases", query=PageQuery, response=PurchaseList, auth="required",
            summary="What I own, newest first")
async def list_purchases(request: web.Request, query: PageQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_purchases(conn, principal.user_id, query.limit, query.offset)
    purchases = [{"id": r["id"], "order_id": r["order_id"], "product_id": r["product_id"], "title": r["title"],
                  "kind": r["kind"], "created_at": r["created_at"],
                  "downloadable": r["track_id"] is not None or r["file_key"] is not None} for r in rows]
    return ok({"purchases": purchases, "total": total})


def _file_path(purchase_id: Any) -> str:
    return f"/api/v1/marketplace/purchases/{purchase_id}/file"


@router.get("/marketplace/purchases/{id}/download", response=DownloadLink, auth="required",
            summary="A short-lived link to the file bought (works without a token until it expires)")
async def purchase_download(request: web.Request, principal: Principal) -> web.Response:
    app = request.app
    purchase_id = path_uuid(request)
    ttl = app[keys.settings].download_link_ttl
    async with app[keys.db].connection() as conn:
        purchase, key, content_type = await rules.purchase_file(conn, purchase_id, principal.user_id)
    presigned = await app[keys.storage].presigned_url(key, ttl, content_disposition(purchase["title"]), content_type)
    if presigned is not None:  # S3 serves it; the link dies when it expires
        return ok({"download_url": presigned, "expires_at": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl)})
    link, expires = app[keys.marketplace].links.sign(_file_path(purchase_id), ttl)
    return ok({"download_url": str(request.url.origin()) + link,
               "expires_at": dt.datetime.fromtimestamp(expires, dt.UTC)})


@router.get("/marketplace/purchases/{id}/file", query=SignedQuery, produces="*/*", success_also=(206,), errors=(416,),
            summary="The file a signed purchase link points to (no token; the link's signature is the proof)")
async def purchase_file(request: web.Request, query: SignedQuery) -> web.StreamResponse:
    app = request.app
    purchase_id = path_uuid(request)
    if not app[keys.marketplace].links.valid(_file_path(purchase_id), query.expires, query.signature):
        raise NotFound("This download link is invalid or has expired")
    async with app[keys.db].connection() as conn:
        purchase, key, content_type = await rules.purchase_file(conn, purchase_id, None)  # revoked: 404 at once
    return await send_stored(request, key, purchase["title"], content_type, cache="private, no-store")
