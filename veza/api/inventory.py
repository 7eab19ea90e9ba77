"""Gear inventory routes: CRUD of the caller's own gear; another user's id is a 404."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from aiohttp import web

from veza import keys
from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.api.schemas import Message
from veza.domain import inventory as rules
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import inventory as store

router = ApiRouter("inventory")
Text = Annotated[str, msgspec.Meta(max_length=200)]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")]
Cents = Annotated[int, msgspec.Meta(ge=0, le=10**15)]


class GearIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Text | msgspec.UnsetType = msgspec.UNSET
    brand: Text | None | msgspec.UnsetType = msgspec.UNSET
    model: Text | None | msgspec.UnsetType = msgspec.UNSET
    serial_number: Text | None | msgspec.UnsetType = msgspec.UNSET
    category: Annotated[str, msgspec.Meta(max_length=100)] | None | msgspec.UnsetType = msgspec.UNSET
    purchase_date: Annotated[str, msgspec.Meta(max_length=10)] | None | msgspec.UnsetType = msgspec.UNSET
    purchase_price_cents: Cents | None | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | None | msgspec.UnsetType = msgspec.UNSET
    condition: Literal["new", "good", "fair", "poor", "broken"] | None | msgspec.UnsetType = msgspec.UNSET
    status: Literal["active", "in_repair", "sold", "archived"] | msgspec.UnsetType = msgspec.UNSET
    warranty_expires: Annotated[str, msgspec.Meta(max_length=10)] | None | msgspec.UnsetType = msgspec.UNSET
    notes: Annotated[str, msgspec.Meta(max_length=5000)] | msgspec.UnsetType = msgspec.UNSET


class GearQuery(msgspec.Struct, forbid_unknown_fields=False):
    q: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    category: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


def _fields(body: GearIn, creating: bool) -> dict[str, Any]:
    raw = {f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not msgspec.UNSET}
    for name in ("purchase_date", "warranty_expires"):
        if name in raw:
            raw[name] = rules.parse_date(raw[name], name)
    return rules.clean_gear(raw, creating=creating)


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if k in ("id", "owner_id") else v)
            for k, v in row.items()}


@router.post("/inventory/gear", body=GearIn, auth="required", status=201, summary="Add a gear item")
async def create_gear(request: web.Request, body: GearIn, principal: Principal) -> web.Response:
    fields = _fields(body, creating=True)
    async with request.app[keys.db].transaction() as conn:
        return ok(_out(await store.create_gear(conn, principal.user_id, fields)), status=201)


@router.get("/inventory/gear", query=GearQuery, auth="required", summary="My gear: search, category, page")
async def list_gear(request: web.Request, query: GearQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_gear(conn, principal.user_id, q=(query.q or "").strip() or None,
                                            category=query.category, limit=query.limit, offset=query.offset)
    return ok({"gear": [_out(r) for r in rows], "total": total})


@router.get("/inventory/gear/{id}", auth="required", summary="One of my gear items")
async def get_gear(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(_out(await store.get_gear(conn, principal.user_id, path_uuid(request))))


@router.patch("/inventory/gear/{id}", body=GearIn, auth="required", summary="Change a gear item")
async def update_gear(request: web.Request, body: GearIn, principal: Principal) -> web.Response:
    gear_id, fields = path_uuid(request), _fields(body, creating=False)
    async with request.app[keys.db].transaction() as conn:
        return ok(_out(await store.update_gear(conn, principal.user_id, gear_id, fields)))


@router.delete("/inventory/gear/{id}", auth="required", response=Message, summary="Delete a gear item")
async def delete_gear(request: web.Request, principal: Principal) -> web.Response:
    gear_id = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        await store.delete_gear(conn, principal.user_id, gear_id)
    return ok(Message(message="Gear deleted"))
