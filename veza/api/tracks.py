"""Tracks: browse (cursor or legacy page), search, upload, stream, edit and delete.

Likes and comments live in `veza/api/track_engagement.py`; what metadata may be and who
may change a track: `veza.domain.tracks`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from protocols.cursor import InvalidCursor, KeysetCursor
from veza import keys
from veza.api.schemas import FILE_PART, Message, form
from veza.api.track_schemas import (
    MAX_OFFSET, SearchOut, SearchQuery, TrackListOut, TrackListQuery, TrackOut, TrackUpdateIn, track_out, tracks_out,
)
from veza.domain import tracks
from veza.domain.text import required
from veza.http.auth import Principal
from veza.http.client_info import is_storable, storable
from veza.http.envelope import ok
from veza.http.errors import BadRequest, NotFound, UnsupportedMediaType
from veza.http.routing import ApiRouter, path_uuid, reject_nul
from veza.services import audio
from veza.services.storage import StoredObjectMissing
from veza.services.streaming import stream_object
from veza.services.uploads import receive_upload
from veza.store import tracks as store

router = ApiRouter("tracks")

_COUNT_SORTS = {"like_count", "comment_count"}  # integer columns (int4)
_INT4_MIN, _INT4_MAX = -(2**31), 2**31 - 1
_TEXT_SORTS = {"title", "artist"}  # text columns of at most 200 characters


def _bad_cursor(problem: str) -> BadRequest:
    return BadRequest(f"Invalid cursor: {problem}", details={"cursor": problem})


def _sort_value(sort_by: str, value: Any) -> Any:
    """A forged cursor's value as the sort column's SQL type takes it, or a 400: anything
    out of the column's range would fail in PostgreSQL (or before, in Python) as a 500."""
    if sort_by in _COUNT_SORTS:
        if not isinstance(value, int) or not _INT4_MIN <= value <= _INT4_MAX:
            raise _bad_cursor("value must be an integer in the column's range")
        return value
    if sort_by in _TEXT_SORTS:
        if not isinstance(value, str) or len(value) > 200 or not is_storable(value):
            raise _bad_cursor("value must be text of at most 200 characters")
        return value
    if isinstance(value, str):  # duration, a double precision
        raise _bad_cursor("value must be a number")
    try:
        number = float(value)
    except OverflowError:
        raise _bad_cursor("value must be a finite number") from None
    if not math.isfinite(number):
        raise _bad_cursor("value must be a finite number")
    return number


def _keyset_after(query: TrackListQuery) -> tuple[Any, Any, uuid.UUID] | None:
    if query.cursor is None:
        return None
    try:
        cursor = KeysetCursor.from_string(query.cursor)
    except InvalidCursor as exc:
        raise BadRequest(f"Invalid cursor: {exc}", details={"cursor": str(exc)}) from None
    if cursor.sort_by != query.sort_by:
        raise BadRequest("The cursor was made for another sort_by", details={"cursor": "sort_by mismatch"})
    try:
        cursor.created_at.astimezone(dt.UTC)  # what asyncpg does; years 1 and 9999 can overflow
    except OverflowError:
        raise _bad_cursor("created_at is out of range") from None
    value = None if query.sort_by == "created_at" else _sort_value(query.sort_by, cursor.value)
    return value, cursor.created_at, cursor.id


def _next_cursor(row: Mapping[str, Any], sort_by: str) -> str:
    value = None if sort_by == "created_at" else row[sort_by]
    return KeysetCursor(row["created_at"], row["id"], sort_by, value).to_string()


@router.get("/tracks", query=TrackListQuery, response=TrackListOut,
            summary="List tracks: cursor (keyset) or legacy page (OFFSET); filters and sorting")
async def list_tracks(request: web.Request, query: TrackListQuery) -> web.Response:
    if query.page is not None and query.cursor is not None:
        raise BadRequest("Use either page or cursor, not both", details={"cursor": "conflicts with page"})
    offset = (query.page - 1) * query.limit if query.page else 0
    if offset > MAX_OFFSET:  # deep OFFSET pages cost a scan of every row skipped; cursors do not
        raise BadRequest(f"page is too deep: (page - 1) * limit must be at most {MAX_OFFSET}; use the cursor",
                         details={"page": f"at most {MAX_OFFSET // query.limit + 1} with limit {query.limit}"})
    genre = query.genre.lower() if query.genre is not None else None  # genres are stored lower-cased
    q = store.TrackQuery(
        limit=query.limit, genre=genre, format=query.format, sort_by=query.sort_by,
        descending=query.sort_order == "desc", after=_keyset_after(query), offset=offset,
    )
    async with request.app[keys.db].connection() as conn:
        rows, has_more = await store.list_tracks(conn, q)
    next_cursor = _next_cursor(rows[-1], query.sort_by) if has_more and rows else None
    return ok({"tracks": tracks_out(rows), "next_cursor": next_cursor, "has_more": has_more,
               "limit": query.limit, "page": query.page})


@router.get("/tracks/search", query=SearchQuery, response=SearchOut,
            summary="Full-text track search with ranking; trigram fallback for typos and prefixes")
async def search_tracks(request: web.Request, query: SearchQuery) -> web.Response:
    text = required(query.q, "q")
    async with request.app[keys.db].connection() as conn:
        rows = await store.search(conn, text, query.limit)
    return ok({"tracks": tracks_out(rows), "query": text, "count": len(rows)})


@router.get("/tracks/{id}", response=TrackOut, summary="One track")
async def get_track(request: web.Request) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(track_out(await store.get_track(conn, path_uuid(request))))


TRACK_FORM = form({
    "file": {**FILE_PART, "description": "The audio (its bytes decide its type)"},
    "title": {"type": "string", "maxLength": 200, "description": "blank: the file name's stem"},
    "artist": {"type": "string", "maxLength": 200, "description": "blank: your username"},
    "description": {"type": "string", "maxLength": 5000},
    "genre": {"type": "string", "maxLength": 50},
    "tags": {"type": "string", "description": "comma-separated"},
})


def _metadata(fields: dict[str, str], filename: str | None) -> dict[str, Any]:
    # Form fields skip the JSON body checks; PostgreSQL text cannot hold NUL.
    for name, value in fields.items():
        reject_nul(value, name)
    reject_nul(filename or "", "file")
    stem = (filename or "").rsplit("/", 1)[-1].rsplit(".", 1)[0].strip()
    # A filename's bytes that are not UTF-8 arrive as lone surrogates: made storable, not refused.
    stem = stem[:200] if stem.isascii() else storable(stem, 200)
    return tracks.new_metadata(fields, stem or None)


@router.post("/tracks", roles=("creator",), content_type="multipart/form-data", content_schema=TRACK_FORM,
             response=TrackOut, status=201,
             summary="Upload a track (multipart: file, title, artist, genre, tags, description)")
async def upload_track(request: web.Request, principal: Principal) -> web.Response:
    app, settings = request.app, request.app[keys.settings]
    upload = await receive_upload(request, settings.data_dir / "tmp", settings.upload_max_bytes)
    try:
        if upload.path is None:
            raise BadRequest("Missing audio file part 'file'", details={"file": "required"})
        meta = _metadata(upload.fields, upload.filename)
        loop = asyncio.get_running_loop()
        try:
            info = await loop.run_in_executor(app[keys.cpu_pool], audio.probe, upload.path)
        except audio.NotAudio as exc:
            raise UnsupportedMediaType(f"Not a supported audio file: {exc}",
                                       details={"file": "not audio", "allowed_types": list(settings.upload_allowed_types)}) from None
        if info.format not in settings.upload_allowed_types:
            raise UnsupportedMediaType(f"Audio type {info.format} is not accepted",
                                       details={"file": info.format, "allowed_types": list(settings.upload_allowed_types)})
        key = f"tracks/{principal.user_id}/{uuid.uuid4().hex}.{info.format}"
        await app[keys.storage].put_file(key, upload.path, info.mime_type)
    finally:
        upload.discard()
    try:
        async with app[keys.db].transaction() as conn:
            row = await tracks.create(conn, principal.user_id, meta, {
                "format": info.format, "mime_type": info.mime_type, "duration": info.duration,
                "file_key": key, "size_bytes": upload.size})
    except BaseException:
        await app[keys.storage].delete(key)
        raise
    return ok(track_out(row), status=201)


@router.get("/tracks/{id}/stream", produces="audio/*", success_also=(206,), errors=(416,),
            summary="The audio file; honours a single HTTP Range (206 / 416)")
async def stream_track(request: web.Request) -> web.StreamResponse:
    async with request.app[keys.db].connection() as conn:
        track = await store.get_track(conn, path_uuid(request), with_file=True)
    try:
        return await stream_object(request, request.app[keys.storage], track["file_key"], track["mime_type"])
    except StoredObjectMissing:
        raise NotFound("The track's audio file is missing") from None


@router.put("/tracks/{id}", body=TrackUpdateIn, response=TrackOut, auth="required",
            summary="Edit a track's metadata (owner or admin)")
async def update_track(request: web.Request, body: TrackUpdateIn, principal: Principal) -> web.Response:
    track_id = path_uuid(request)
    changes = {f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not None}
    async with request.app[keys.db].transaction() as conn:
        return ok(track_out(await tracks.update(conn, principal.user_id, principal.role, track_id, changes)))


@router.delete("/tracks/{id}", response=Message, auth="required", summary="Delete a track (owner or admin)")
async def delete_track(request: web.Request, principal: Principal) -> web.Response:
    track_id = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        file_key = await tracks.delete(conn, principal.user_id, principal.role, track_id)
    await request.app[keys.storage].delete(file_key)
    return ok(Message(message="Track deleted"))
