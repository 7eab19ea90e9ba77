"""Marketplace catalogue routes: products (creators sell, everyone browses) and reviews."""

from __future__ import annotations

import msgspec
from aiohttp import web

from veza import keys
from veza.api.marketplace_schemas import (PageQuery, ProductIn, ProductList, ProductOut, ProductQuery,
                                          ProductRemoved, ProductUpdate, ReviewIn, ReviewList, ReviewOut)
from veza.domain import marketplace as rules
from veza.domain.errors import NotFound
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import products as store

router = ApiRouter("marketplace")
# Enough ranked hits for any page a person reads; deeper pages of a search are empty.
SEARCH_CAP = 1000


def actor(principal: Principal) -> rules.Principal:
    return rules.Principal(principal.user_id, principal.role)


@router.post("/marketplace/products", body=ProductIn, response=ProductOut, status=201, roles=("creator",),
             summary="Put a product on sale (creators and admins)")
async def create_product(request: web.Request, body: ProductIn, principal: Principal) -> web.Response:
    fields = {f: getattr(body, f) for f in body.__struct_fields__}
    async with request.app[keys.db].transaction() as conn:
        return ok(await rules.create_product(conn, actor(principal), fields), status=201)


@router.get("/marketplace/products", query=ProductQuery, response=ProductList,
            summary="Active products: search, sort (newest, price_asc, price_desc, popular, rating), seller")
async def list_products(request: web.Request, query: ProductQuery) -> web.Response:
    text = (query.search or "").strip()
    async with request.app[keys.db].connection() as conn:
        only = await store.search_ids(conn, text, SEARCH_CAP) if text else None
        products, total = await store.list_active(conn, sort=query.sort, seller_id=query.seller_id,
                                                  limit=query.limit, offset=query.offset, only=only)
    return ok({"products": products, "total": total})


@router.get("/marketplace/products/{id}", auth="optional", response=ProductOut,
            summary="One product (drafts and archived products: their seller only)")
async def get_product(request: web.Request, principal: Principal | None) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        product = await store.get(conn, path_uuid(request))
    if not rules.can_see_product(product, actor(principal) if principal else None):
        raise NotFound("Product not found")
    return ok(product)


@router.put("/marketplace/products/{id}", body=ProductUpdate, response=ProductOut, auth="required", errors=(409,),
            summary="Change a product (its seller)")
async def update_product(request: web.Request, body: ProductUpdate, principal: Principal) -> web.Response:
    changes = {f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not msgspec.UNSET}
    async with request.app[keys.db].transaction() as conn:
        return ok(await rules.update_product(conn, actor(principal), path_uuid(request), changes))


@router.delete("/marketplace/products/{id}", response=ProductRemoved, auth="required",
               summary="Remove a product (its seller); one already ordered is archived, never deleted")
async def delete_product(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        outcome = await rules.remove_product(conn, actor(principal), path_uuid(request))
    return ok({"message": f"Product {outcome}", "status": outcome})


@router.get("/marketplace/products/{id}/reviews", query=PageQuery, response=ReviewList,
            summary="A product's reviews, newest first")
async def list_reviews(request: web.Request, query: PageQuery) -> web.Response:
    product_id = path_uuid(request)
    async with request.app[keys.db].connection() as conn:
        await store.get(conn, product_id)
        return ok({"reviews": await store.list_reviews(conn, product_id, query.limit, query.offset)})


@router.post("/marketplace/products/{id}/reviews", body=ReviewIn, response=ReviewOut, status=201, auth="required",
             errors=(409,),
             summary="Review a product you bought (one review per buyer)")
async def create_review(request: web.Request, body: ReviewIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        review = await rules.create_review(conn, actor(principal), path_uuid(request), rating=body.rating,
                                           comment=body.comment)
    return ok(review, status=201)
