"""Developer API keys (DEV1): create (raw key shown once), list, delete; the rules:
`veza.domain.api_keys`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.domain import api_keys as rules
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.security import api_keys
from veza.security.scopes import AREAS, LEVELS, SCOPES
from veza.validation import NOT_BLANK_SCHEMA

router = ApiRouter("developer")


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, extra_json_schema=NOT_BLANK_SCHEMA)]
    # `veza.domain.api_keys.granted_scopes`' rules, documented: known scopes, at least one, and an area only beside a level.
    scopes: Annotated[list[Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(SCOPES)})]], msgspec.Meta(
        max_length=len(SCOPES), extra_json_schema={
        "minItems": 1,
        "anyOf": [{"contains": {"enum": list(LEVELS)}}, {"not": {"contains": {"enum": list(AREAS)}}}],
        "description": "read/write, optionally narrowed by areas (tracks, chat, live, marketplace); admin for "
                       "admins"})] = msgspec.field(default_factory=lambda: ["read"])


class ApiKeyOut(msgspec.Struct):
    id: UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = ""


class ApiKeyList(msgspec.Struct):
    api_keys: list[ApiKeyOut]
    total: int


def _out(row: dict) -> ApiKeyOut:
    return ApiKeyOut(id=row["id"], name=row["name"], prefix=row["prefix"], scopes=list(row["scopes"]),
                     created_at=row["created_at"], last_used_at=row["last_used_at"])


@router.post("/developer/api-keys", body=ApiKeyIn, response=ApiKeyCreated, status=201, auth="required",
             summary="Create an API key (the raw key is returned only once)")
async def create_key(request: web.Request, body: ApiKeyIn, principal: Principal) -> web.Response:
    raw, prefix, key_hash = api_keys.generate()
    async with request.app[keys.db].transaction() as conn:
        row = await rules.create(conn, principal.user_id, principal.role, principal.via, name=body.name,
                                 scopes=body.scopes, prefix=prefix, key_hash=key_hash)
    out = _out(row)
    return ok(ApiKeyCreated(**{f: getattr(out, f) for f in out.__struct_fields__}, key=raw), status=201)


@router.get("/developer/api-keys", response=ApiKeyList, auth="required", summary="List your API keys (no raw keys)")
async def list_keys(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows = await rules.list_keys(conn, principal.user_id, principal.via)
    return ok(ApiKeyList(api_keys=[_out(r) for r in rows], total=len(rows)))


@router.delete("/developer/api-keys/{id}", auth="required", summary="Delete (revoke) one of your API keys")
async def delete_key(request: web.Request, principal: Principal) -> web.Response:
    key_id = path_uuid(request, "id")
    async with request.app[keys.db].connection() as conn:
        await rules.delete(conn, principal.user_id, principal.via, key_id)
    return ok({"id": str(key_id), "deleted": True})
