"""Cloud files: upload, list, get, download, replace content (old content kept), rename or
move, delete, and the caller's quota. Another user's file is a 404.

Folders: `veza/api/cloud_folders.py`; versions: `cloud_versions.py`; share links:
`cloud_shares.py`. The rules are in `veza/domain/cloud.py`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from aiohttp import web

from protocols.cursor import InvalidCursor, KeysetCursor
from veza import keys
from veza.api import cloud_uploads as uploads
from veza.api.downloads import send_stored
from veza.api.cloud_schemas import (REPLACE_FORM, UPLOAD_FORM, FileListOut, FileListQuery, FileOut, FilePatchIn,
                                    QuotaOut, file_out, given)
from veza.api.cloud_setup import CloudRouter, collector, limits
from veza.api.schemas import Message
from veza.domain import cloud as rules
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest
from veza.http.routing import path_uuid
from veza.store import cloud_files as store
from veza.store import cloud_folders as folders
from veza.store import cloud_usage as usage

router = CloudRouter("cloud")


def _form_uuid(fields: dict[str, str], name: str) -> uuid.UUID | None:
    raw = fields.get(name, "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a UUID", details={name: "not a UUID"}) from None


@router.post("/cloud/files", auth="required", content_type="multipart/form-data", content_schema=UPLOAD_FORM,
             response=FileOut, status=201, errors=(404, 409, 507),
             summary="Upload a file (multipart: file, optional folder_id and name)")
async def upload_file(request: web.Request, principal: Principal) -> web.Response:
    app, owner, lim = request.app, principal.user_id, limits(request.app[keys.settings])
    async with app[keys.db].connection() as conn:
        left = await rules.remaining(conn, owner, lim)
    received = await uploads.receive(request, lim.max_file_bytes, quota_left=left)
    try:
        fields = received.upload.fields
        folder_id = _form_uuid(fields, "folder_id")
        given = fields.get("name", "").strip() or rules.name_from_filename(received.upload.filename)
        if not given:
            raise BadRequest("name is required when the file part has no file name", details={"name": "required"})
        name = rules.clean_name(given)
    except BaseException:
        received.upload.discard()
        raise
    key = rules.storage_key(owner)
    await uploads.put(request, received, key)
    async with uploads.recorded_or_deleted(request, key), unit_of_work(app[keys.db]) as uow:
        row = await rules.create_file(uow, owner, folder_id=folder_id, name=name, content=received.content(key),
                                      limits=lim)
    return ok(file_out(row), status=201)


def _after(query: FileListQuery) -> tuple[dt.datetime, uuid.UUID] | None:
    if query.cursor is None:
        return None
    try:
        cursor = KeysetCursor.from_string(query.cursor)
        if cursor.sort_by != "created_at":
            raise InvalidCursor("cursor was made for another list")
        cursor.created_at.astimezone(dt.UTC)  # years 1 and 9999 can overflow, as in asyncpg
    except (InvalidCursor, OverflowError) as exc:
        raise BadRequest(f"Invalid cursor: {exc}", details={"cursor": str(exc) or "out of range"}) from None
    return cursor.created_at, cursor.id


@router.get("/cloud/files", auth="required", query=FileListQuery, response=FileListOut, errors=(404,),
            summary="My files in one folder (the root by default), newest first, by cursor")
async def list_files(request: web.Request, query: FileListQuery, principal: Principal) -> web.Response:
    after = _after(query)
    async with request.app[keys.db].connection() as conn:
        if query.folder_id is not None:
            await folders.get(conn, principal.user_id, query.folder_id)
        rows, has_more = await store.page(conn, principal.user_id, query.folder_id, query.limit, after)
    next_cursor = KeysetCursor(rows[-1]["created_at"], rows[-1]["id"]).to_string() if has_more and rows else None
    return ok(FileListOut(files=[file_out(r) for r in rows], next_cursor=next_cursor, has_more=has_more))


@router.get("/cloud/files/{id}", auth="required", response=FileOut, summary="One of my files")
async def get_file(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(file_out(await store.get(conn, principal.user_id, path_uuid(request))))


@router.get("/cloud/files/{id}/download", auth="required", produces="*/*", success_also=(206,), errors=(416,),
            summary="The file's content (single Range, 206/416; saved as an attachment)")
async def download_file(request: web.Request, principal: Principal) -> web.StreamResponse:
    async with request.app[keys.db].connection() as conn:
        row = await store.get(conn, principal.user_id, path_uuid(request))
    return await send_stored(request, row["storage_key"], row["name"], row["mime_type"])


@router.put("/cloud/files/{id}/content", auth="required", content_type="multipart/form-data",
            content_schema=REPLACE_FORM, response=FileOut, errors=(507,),
            summary="Replace the content (multipart: file); the previous content is kept as a version")
async def replace_content(request: web.Request, principal: Principal) -> web.Response:
    app, owner, lim = request.app, principal.user_id, limits(request.app[keys.settings])
    file_id = path_uuid(request)
    async with app[keys.db].connection() as conn:
        await store.get(conn, owner, file_id)  # a 404 before reading a byte of the body
        # What pruning versions may free counts as room (the transaction charges exactly).
        left = await rules.remaining(conn, owner, lim) + await store.prunable_bytes(conn, file_id, lim.max_versions)
    received = await uploads.receive(request, lim.max_file_bytes, quota_left=left)
    key = rules.storage_key(owner)
    await uploads.put(request, received, key)
    async with uploads.recorded_or_deleted(request, key), unit_of_work(app[keys.db]) as uow:
        row = await rules.replace_content(uow, app[collector], owner, file_id, received.content(key), lim)
    return ok(file_out(row))


@router.patch("/cloud/files/{id}", auth="required", body=FilePatchIn, response=FileOut, errors=(409,),
              summary="Rename a file and/or move it to a folder (folder_id null: the root)")
async def patch_file(request: web.Request, body: FilePatchIn, principal: Principal) -> web.Response:
    file_id = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        return ok(file_out(await rules.rename_move(conn, principal.user_id, file_id, given(body))))


@router.delete("/cloud/files/{id}", auth="required", response=Message,
               summary="Delete a file with its versions and share links; its bytes are freed after commit")
async def delete_file(request: web.Request, principal: Principal) -> web.Response:
    app, file_id = request.app, path_uuid(request)
    async with unit_of_work(app[keys.db]) as uow:
        await rules.delete_file(uow, app[collector], principal.user_id, file_id, limits(app[keys.settings]))
    return ok(Message(message="File deleted"))


@router.get("/cloud/quota", auth="required", response=QuotaOut,
            summary="Bytes I use (current contents and versions) and my quota")
async def quota(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        used = await usage.used(conn, principal.user_id)
    return ok(QuotaOut(used_bytes=used, quota_bytes=request.app[keys.settings].cloud_quota_bytes))
