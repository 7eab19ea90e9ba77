"""Live shopping: a streamer pins their products to a live stream; watchers see them in
`stream_state`, get `stream_products` when they change and `stream_sale` when one sells."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from aiohttp import web

from actors import ActorDead, MailboxFull
from actors.live_stream import LiveStream, PinProducts
from veza import keys
from veza.api.marketplace import actor
from veza.domain import marketplace as rules
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.live.service import pinned_products
from veza.store import live as live_store
from veza.store import products as product_store

router = ApiRouter("live")


class PinIn(msgspec.Struct, forbid_unknown_fields=True):
    product_ids: Annotated[list[UUID], msgspec.Meta(max_length=rules.MAX_PINNED)]


class PinnedOut(msgspec.Struct):
    id: UUID
    title: str
    kind: str
    price_cents: int
    currency: str
    stock_remaining: int | None


class PinnedList(msgspec.Struct):
    products: list[PinnedOut]


@router.get("/live/streams/{id}/products", response=PinnedList, summary="Products pinned to a stream")
async def list_pinned(request: web.Request) -> web.Response:
    stream_id = path_uuid(request)
    async with request.app[keys.db].connection() as conn:
        await live_store.get_stream(conn, stream_id)
        return ok({"products": await product_store.pinned(conn, stream_id)})


@router.put("/live/streams/{id}/products", body=PinIn, response=PinnedList, auth="required",
            summary="Pin my products to my stream (replaces the list; an empty list unpins all)")
async def pin(request: web.Request, body: PinIn, principal: Principal) -> web.Response:
    app = request.app
    stream_id = path_uuid(request)
    async with app[keys.db].transaction() as conn:
        stream = await live_store.get_stream(conn, stream_id)
        products = await rules.pin_products(conn, actor(principal), stream, body.product_ids)
    try:  # the local actor shows them to new watchers and tells every node's watchers
        await app[keys.actors].ref(LiveStream, stream_id).ask(PinProducts(tuple(pinned_products(products))))
    except (MailboxFull, ActorDead, LookupError):
        pass  # saved; watchers see them on their next stream_state
    return ok({"products": products})
