"""Developer API keys (DEV1): create (raw key shown once), list, delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest, Forbidden
from veza.http.routing import ApiRouter, path_uuid
from veza.security import api_keys
from veza.security.scopes import AREAS, LEVELS, SCOPES, missing_level
from veza.store import api_keys as store
from veza.validation import NOT_BLANK_SCHEMA

router = ApiRouter("developer")

MAX_KEYS_PER_USER = 25


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, extra_json_schema=NOT_BLANK_SCHEMA)]
    # `_check`'s rules, documented: known scopes, at least one, and an area only beside a level.
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


def _check(body: ApiKeyIn, principal: Principal) -> list[str]:
    unknown = [s for s in body.scopes if s not in SCOPES]
    if unknown or not body.scopes:
        raise BadRequest("Unknown or empty scopes", details={"scopes": f"each one of {', '.join(SCOPES)}"})
    if missing_level(set(body.scopes)):
        raise BadRequest("Area scopes only narrow a level: add 'read' or 'write'",
                         details={"scopes": "an area (tracks, chat, live, marketplace) needs 'read' or 'write' beside it"})
    if not body.name.strip():
        raise BadRequest("Invalid name: must not be blank", details={"name": "must not be blank"})
    if "admin" in body.scopes and not principal.is_admin:
        raise Forbidden("Only admins may create keys with the admin scope")
    return sorted(set(body.scopes))


def _signed_in(principal: Principal) -> None:
    """Keys are managed with the user's own token: a leaked key cannot mint, list or revoke keys."""
    if principal.via == "api_key":
        raise Forbidden("API keys cannot manage API keys; use a Bearer token")


@router.post("/developer/api-keys", body=ApiKeyIn, response=ApiKeyCreated, status=201, auth="required",
             summary="Create an API key (the raw key is returned only once)")
async def create_key(request: web.Request, body: ApiKeyIn, principal: Principal) -> web.Response:
    _signed_in(principal)
    granted = _check(body, principal)
    raw, prefix, key_hash = api_keys.generate()
    async with request.app[keys.db].transaction() as conn:
        if await store.count_for_user_locked(conn, principal.user_id) >= MAX_KEYS_PER_USER:
            raise BadRequest(f"At most {MAX_KEYS_PER_USER} API keys per user", details={"api_keys": "limit reached"})
        row = await store.create(conn, user_id=principal.user_id, name=body.name.strip(), prefix=prefix,
                                 key_hash=key_hash, scopes=granted)
    out = _out(row)
    return ok(ApiKeyCreated(**{f: getattr(out, f) for f in out.__struct_fields__}, key=raw), status=201)


@router.get("/developer/api-keys", response=ApiKeyList, auth="required", summary="List your API keys (no raw keys)")
async def list_keys(request: web.Request, principal: Principal) -> web.Response:
    _signed_in(principal)
    async with request.app[keys.db].connection() as conn:
        rows = await store.list_for_user(conn, principal.user_id)
    return ok(ApiKeyList(api_keys=[_out(r) for r in rows], total=len(rows)))


@router.delete("/developer/api-keys/{id}", auth="required", summary="Delete (revoke) one of your API keys")
async def delete_key(request: web.Request, principal: Principal) -> web.Response:
    _signed_in(principal)
    key_id = path_uuid(request, "id")
    async with request.app[keys.db].connection() as conn:
        await store.delete(conn, principal.user_id, key_id)
    return ok({"id": str(key_id), "deleted": True})
