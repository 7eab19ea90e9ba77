"""Live Streaming routes of the API reference: streams, the owner's key, metadata updates.

The stream key appears only in the owner's responses (`/live/streams/me*`). Metadata
updates go through the stream's LiveStream actor, which persists and broadcasts them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import msgspec
from aiohttp import web

from actors.live_stream import UpdateMetadata
from veza import keys
from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.domain import live as rules
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.live.service import end_live_stream, stream_ref
from veza.store import live as store

router = ApiRouter("live")

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=140)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
Category = Annotated[str, msgspec.Meta(max_length=64)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]


class StreamIn(msgspec.Struct):
    title: Title
    description: Description = ""
    category: Category = ""
    tags: Tags = []


class StreamPatch(msgspec.Struct):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    category: Category | msgspec.UnsetType = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET


class ListQuery(msgspec.Struct):
    is_live: bool | None = None
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class KeyQuery(msgspec.Struct):
    stream_id: UUID | None = None


class StreamOut(msgspec.Struct):
    id: UUID
    user_id: UUID
    username: str
    title: str
    description: str
    category: str
    tags: list[str]
    status: str
    is_live: bool
    viewer_count: int
    peak_viewers: int
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: int
    hls_url: str
    whep_url: str
    chat_room_id: UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OwnedStreamOut(StreamOut):
    stream_key: str
    rtmp_url: str


class StreamList(msgspec.Struct):
    streams: list[StreamOut]
    total: int
    limit: int
    offset: int
    has_more: bool


class OwnedStreamList(msgspec.Struct):
    streams: list[OwnedStreamOut]
    total: int


class KeyOut(msgspec.Struct):
    stream_id: UUID
    stream_key: str
    rtmp_url: str
    whip_url: str


def _public(request: web.Request, row: dict[str, Any]) -> dict[str, Any]:
    settings = request.app[keys.settings]
    sid = row["id"]
    return {
        "id": sid, "user_id": row["owner_id"], "username": row["owner_username"], "title": row["title"],
        "description": row["description"], "category": row["category"], "tags": list(row["tags"]),
        "status": row["status"], "is_live": row["status"] == "live", "viewer_count": row["viewer_count"],
        "peak_viewers": row["peak_viewers"], "started_at": row["started_at"], "ended_at": row["ended_at"],
        "duration_seconds": row["duration_seconds"],
        "hls_url": f"{settings.live_hls_url}/{sid}.m3u8",
        "whep_url": f"{settings.app_domain.rstrip('/')}/api/v1/live/streams/{sid}/whep",
        "chat_room_id": row["chat_room_id"], "created_at": row["created_at"], "updated_at": row["updated_at"],
    }


def _owned(request: web.Request, row: dict[str, Any]) -> dict[str, Any]:
    return {**_public(request, row), "stream_key": row["stream_key"],
            "rtmp_url": request.app[keys.settings].live_rtmp_url}


def _key(request: web.Request, row: dict[str, Any]) -> KeyOut:
    settings = request.app[keys.settings]
    return KeyOut(stream_id=row["id"], stream_key=row["stream_key"], rtmp_url=settings.live_rtmp_url,
                  whip_url=f"{settings.app_domain.rstrip('/')}/api/v1/live/whip")


@router.get("/live/streams", query=ListQuery, response=StreamList, summary="List streams (public), live first")
async def list_streams(request: web.Request, query: ListQuery) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_streams(conn, is_live=query.is_live, limit=query.limit, offset=query.offset)
    return ok({"streams": [_public(request, r) for r in rows], "total": total, "limit": query.limit,
               "offset": query.offset, "has_more": query.offset + len(rows) < total})


@router.post("/live/streams", body=StreamIn, response=OwnedStreamOut, status=201, auth="required",
             summary="Create a stream (the response carries its stream key)")
async def post_stream(request: web.Request, body: StreamIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        row = await rules.create_stream(conn, principal.user_id, title=body.title, description=body.description,
                                        category=body.category, tags=body.tags)
    return ok(_owned(request, row), status=201)


@router.get("/live/streams/me", response=OwnedStreamList, auth="required",
            summary="The caller's streams, with their stream keys")
async def my_streams(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows = await store.list_owned(conn, principal.user_id)
    return ok({"streams": [_owned(request, r) for r in rows], "total": len(rows)})


@router.get("/live/streams/me/key", query=KeyQuery, response=KeyOut, auth="required", errors=(404,),
            summary="The caller's stream key and RTMP URL; creates a draft stream when the caller has none "
                    "(a publishing credential: an API key needs the write scope)")
async def my_key(request: web.Request, query: KeyQuery, principal: Principal) -> web.Response:
    principal.require_scope("write")  # a stream key publishes, and this GET may create a stream
    async with request.app[keys.db].transaction() as conn:
        row = await rules.current_stream(conn, principal.user_id, query.stream_id)
    return ok(_key(request, row))


@router.post("/live/streams/me/key/regenerate", query=KeyQuery, response=KeyOut, auth="required", errors=(404,),
             summary="Replace the stream key (of ?stream_id=, else the current stream); the old one stops working")
async def regenerate_key(request: web.Request, query: KeyQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        row = await rules.current_stream(conn, principal.user_id, query.stream_id)
        row = await rules.regenerate_key(conn, principal.user_id, row["id"])
    if row["status"] == "live":
        # The old key's publisher is cut off: nginx-rtmp's next on_update gets a 403.
        await end_live_stream(request.app, row["id"], reason="stream key regenerated")
    return ok(_key(request, row))


@router.get("/live/streams/{id}", response=StreamOut, summary="Stream details (public)")
async def get_stream(request: web.Request) -> web.Response:
    stream_id = path_uuid(request, "id")
    async with request.app[keys.db].connection() as conn:
        row = await store.get_stream(conn, stream_id)
    return ok(_public(request, row))


@router.put("/live/streams/{id}", body=StreamPatch, response=StreamOut, auth="required",
            summary="Update stream metadata (owner only); watchers get stream_updated")
async def update_stream(request: web.Request, body: StreamPatch, principal: Principal) -> web.Response:
    stream_id = path_uuid(request, "id")
    async with request.app[keys.db].connection() as conn:
        await rules.editable_stream(conn, principal.user_id, principal.is_admin, stream_id)
    changes = tuple((k, v) for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET)
    row = await stream_ref(request.app, stream_id).ask(UpdateMetadata(changes=changes))
    return ok(_public(request, row))
