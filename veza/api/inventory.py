"""Gear inventory routes: the caller's own gear, its documents and its repair history.

Another user's gear, or a document or repair id under the wrong gear id, is a 404. The
rules are in `veza/domain/inventory.py`; documents are stored like cloud files
(`veza/api/cloud_uploads.py`, generated keys, bytes freed after the commit that drops them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.api import cloud_uploads as uploads
from veza.api.downloads import send_stored
from veza.api.cloud_schemas import given, pick
from veza.api.cloud_setup import collector
from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.api.schemas import FILE_PART, Message, form
from veza.domain import cloud as cloud_rules
from veza.domain import inventory as rules
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import inventory as store
from veza.validation import NOT_BLANK_SCHEMA, documented

router = ApiRouter("inventory")
Text = Annotated[str, msgspec.Meta(max_length=200)]
# ISO 4217, any case (the server upper-cases it): each letter of each code in either case.
_ANY_CASE_CODES = "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in sorted(rules.CURRENCIES))
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$", extra_json_schema=documented({
    "pattern": f"^(?:{_ANY_CASE_CODES})$", "description": "An ISO 4217 currency code"}))]
Cents = Annotated[int, msgspec.Meta(ge=0, le=10**15)]
Day = Annotated[str, msgspec.Meta(max_length=10, description="YYYY-MM-DD", extra_json_schema={"format": "date"})]


class GearIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Annotated[str, msgspec.Meta(max_length=200, extra_json_schema=NOT_BLANK_SCHEMA)] | msgspec.UnsetType = (
        msgspec.UNSET)
    brand: Text | None | msgspec.UnsetType = msgspec.UNSET
    model: Text | None | msgspec.UnsetType = msgspec.UNSET
    serial_number: Text | None | msgspec.UnsetType = msgspec.UNSET
    category: Annotated[str, msgspec.Meta(max_length=100)] | None | msgspec.UnsetType = msgspec.UNSET
    purchase_date: Day | None | msgspec.UnsetType = msgspec.UNSET
    purchase_price_cents: Cents | None | msgspec.UnsetType = msgspec.UNSET
    currency: Currency | None | msgspec.UnsetType = msgspec.UNSET
    condition: Literal["new", "good", "fair", "poor", "broken"] | None | msgspec.UnsetType = msgspec.UNSET
    status: Literal["active", "in_repair", "sold", "archived"] | msgspec.UnsetType = msgspec.UNSET
    warranty_expires: Day | None | msgspec.UnsetType = msgspec.UNSET
    notes: Annotated[str, msgspec.Meta(max_length=5000)] | msgspec.UnsetType = msgspec.UNSET


class GearCreateIn(GearIn, kw_only=True):
    """A new item: its name is required (`clean_gear` says so in the same words)."""
    name: Annotated[str, msgspec.Meta(max_length=200, extra_json_schema=NOT_BLANK_SCHEMA)]


def _priced_needs_currency(price: str) -> dict[str, Any]:
    """`clean_gear` / `clean_repair`: a price (not null) comes with its currency (not null)."""
    return {"if": {"required": [price], "properties": {price: {"type": "integer"}}},
            "then": {"required": ["currency"], "properties": {"currency": {"type": "string"}}}}


NewGear = Annotated[GearCreateIn, msgspec.Meta(extra_json_schema=_priced_needs_currency("purchase_price_cents"))]


class GearOut(msgspec.Struct):
    id: UUID
    owner_id: UUID
    name: str
    brand: str | None
    model: str | None
    serial_number: str | None
    category: str | None
    purchase_date: dt.date | None
    purchase_price_cents: int | None
    currency: str | None
    condition: str | None
    status: str
    warranty_expires: dt.date | None
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime


class GearQuery(msgspec.Struct, forbid_unknown_fields=False):
    q: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    category: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class PageQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class GearListOut(msgspec.Struct):
    gear: list[GearOut]
    total: int


class DocumentOut(msgspec.Struct):
    id: UUID
    gear_id: UUID
    type: str
    name: str
    mime_type: str
    size_bytes: int
    sha256: str
    created_at: dt.datetime
    download_url: str


class DocumentListOut(msgspec.Struct):
    documents: list[DocumentOut]
    total: int


class RepairIn(msgspec.Struct, forbid_unknown_fields=True):
    description: Annotated[str, msgspec.Meta(max_length=5000, extra_json_schema=NOT_BLANK_SCHEMA)]
    repair_date: Day | None = None
    cost_cents: Cents | None = None
    currency: Currency | None = None
    provider: Text | None = None


NewRepair = Annotated[RepairIn, msgspec.Meta(extra_json_schema=_priced_needs_currency("cost_cents"))]


class RepairOut(msgspec.Struct):
    id: UUID
    gear_id: UUID
    repair_date: dt.date
    description: str
    cost_cents: int | None
    currency: str | None
    provider: str | None
    created_at: dt.datetime


class RepairListOut(msgspec.Struct):
    repairs: list[RepairOut]
    total: int


def _fields(body: GearIn, creating: bool) -> dict[str, Any]:
    raw = given(body)
    for name in ("purchase_date", "warranty_expires"):
        if name in raw:
            raw[name] = rules.parse_date(raw[name], name)
    return rules.clean_gear(raw, creating=creating)


def _document(row: dict[str, Any]) -> DocumentOut:
    url = f"/api/v1/inventory/gear/{row['gear_id']}/documents/{row['id']}/download"
    return pick(DocumentOut, row, download_url=url)


@router.post("/inventory/gear", body=NewGear, response=GearOut, auth="required", status=201,
             summary="Add a gear item")
async def create_gear(request: web.Request, body: GearIn, principal: Principal) -> web.Response:
    fields = _fields(body, creating=True)
    async with request.app[keys.db].transaction() as conn:
        return ok(pick(GearOut, await store.create_gear(conn, principal.user_id, fields)), status=201)


@router.get("/inventory/gear", query=GearQuery, response=GearListOut, auth="required",
            summary="My gear: search, category, page")
async def list_gear(request: web.Request, query: GearQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_gear(conn, principal.user_id, q=(query.q or "").strip() or None,
                                            category=query.category, limit=query.limit, offset=query.offset)
    return ok(GearListOut(gear=[pick(GearOut, r) for r in rows], total=total))


@router.get("/inventory/gear/{id}", response=GearOut, auth="required", summary="One of my gear items")
async def get_gear(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(pick(GearOut, await store.get_gear(conn, principal.user_id, path_uuid(request))))


@router.patch("/inventory/gear/{id}", body=GearIn, response=GearOut, auth="required", summary="Change a gear item")
async def update_gear(request: web.Request, body: GearIn, principal: Principal) -> web.Response:
    gear_id, fields = path_uuid(request), _fields(body, creating=False)
    async with request.app[keys.db].transaction() as conn:
        return ok(pick(GearOut, await store.update_gear(conn, principal.user_id, gear_id, fields)))


@router.delete("/inventory/gear/{id}", auth="required", response=Message,
               summary="Delete a gear item with its documents and repairs")
async def delete_gear(request: web.Request, principal: Principal) -> web.Response:
    app, gear_id = request.app, path_uuid(request)
    async with unit_of_work(app[keys.db]) as uow:
        await rules.delete_gear(uow, app[collector], principal.user_id, gear_id)
    return ok(Message(message="Gear deleted"))


# Documents --------------------------------------------------------------------------------

@router.post("/inventory/gear/{id}/documents", auth="required", content_type="multipart/form-data",
             content_schema=form({"file": FILE_PART, "type": {"enum": list(rules.DOCUMENT_TYPES)}}, ("file", "type")),
             response=DocumentOut, status=201, errors=(409,),
             summary="Upload a document (multipart: file, type): PDF, JPEG, PNG, WebP or plain text")
async def upload_document(request: web.Request, principal: Principal) -> web.Response:
    app, owner, gear_id = request.app, principal.user_id, path_uuid(request)
    async with app[keys.db].connection() as conn:
        await store.gear_exists(conn, owner, gear_id)  # a 404 before reading the body
    received = await uploads.receive(request, app[keys.settings].gear_document_max_bytes, what="document")
    upload = received.upload
    try:
        kind = rules.document_type(upload.fields.get("type"))
        received.mime_type = rules.document_mime(received.head, received.complete, upload.content_type,
                                                 upload.filename)
        name = cloud_rules.name_from_filename(upload.filename) or f"{kind}-document"
    except BaseException:
        upload.discard()
        raise
    key = f"gear/{owner}/{uuid.uuid4().hex}"
    await uploads.put(request, received, key)
    async with uploads.recorded_or_deleted(request, key), unit_of_work(app[keys.db]) as uow:
        row = await rules.add_document(uow, owner, gear_id, {**received.content(key), "type": kind, "name": name})
    return ok(_document(row), status=201)


@router.get("/inventory/gear/{id}/documents", auth="required", query=PageQuery, response=DocumentListOut,
            summary="A gear item's documents, newest first")
async def list_documents(request: web.Request, query: PageQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_documents(conn, principal.user_id, path_uuid(request), query.limit, query.offset)
    return ok(DocumentListOut(documents=[_document(r) for r in rows], total=total))


@router.get("/inventory/gear/{id}/documents/{docId}/download", auth="required", produces=rules.ACCEPTED_TYPES,
            success_also=(206,), errors=(416,),
            summary="A document's content (single Range, 206/416; saved as an attachment)")
async def download_document(request: web.Request, principal: Principal) -> web.StreamResponse:
    gear_id, doc_id = path_uuid(request), path_uuid(request, "docId")
    async with request.app[keys.db].connection() as conn:
        row = await store.get_document(conn, principal.user_id, gear_id, doc_id)
    return await send_stored(request, row["storage_key"], row["name"], row["mime_type"])


@router.delete("/inventory/gear/{id}/documents/{docId}", auth="required", response=Message,
               summary="Delete a document; its bytes are freed after commit")
async def delete_document(request: web.Request, principal: Principal) -> web.Response:
    app, gear_id, doc_id = request.app, path_uuid(request), path_uuid(request, "docId")
    async with unit_of_work(app[keys.db]) as uow:
        await rules.delete_document(uow, app[collector], principal.user_id, gear_id, doc_id)
    return ok(Message(message="Document deleted"))


# Repairs ----------------------------------------------------------------------------------

@router.post("/inventory/gear/{id}/repairs", auth="required", body=NewRepair, response=RepairOut, status=201,
             summary="Record a repair (repair_date YYYY-MM-DD, default today; cost_cents with an ISO 4217 currency)")
async def create_repair(request: web.Request, body: RepairIn, principal: Principal) -> web.Response:
    gear_id = path_uuid(request)
    fields = rules.clean_repair({f: getattr(body, f) for f in body.__struct_fields__}, dt.datetime.now(dt.UTC).date())
    async with request.app[keys.db].transaction() as conn:
        return ok(pick(RepairOut, await store.create_repair(conn, principal.user_id, gear_id, fields)), status=201)


@router.get("/inventory/gear/{id}/repairs", auth="required", query=PageQuery, response=RepairListOut,
            summary="A gear item's repair history, newest first")
async def list_repairs(request: web.Request, query: PageQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_repairs(conn, principal.user_id, path_uuid(request), query.limit, query.offset)
    return ok(RepairListOut(repairs=[pick(RepairOut, r) for r in rows], total=total))


@router.delete("/inventory/gear/{id}/repairs/{repairId}", auth="required", response=Message, summary="Delete a repair record")
async def delete_repair(request: web.Request, principal: Principal) -> web.Response:
    gear_id, repair_id = path_uuid(request), path_uuid(request, "repairId")
    async with request.app[keys.db].transaction() as conn:
        await store.delete_repair(conn, principal.user_id, gear_id, repair_id)
    return ok(Message(message="Repair deleted"))

