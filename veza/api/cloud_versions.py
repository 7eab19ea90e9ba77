"""Versions of a cloud file: list, snapshot, restore, download one."""

from __future__ import annotations

from aiohttp import web

from veza import keys
from veza.api.downloads import send_stored
from veza.api.cloud_schemas import FileOut, VersionListOut, VersionOut, file_out, pick
from veza.api.cloud_setup import collector, limits
from veza.domain import cloud_versions as rules
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import NotFound
from veza.http.routing import ApiRouter, path_uuid

router = ApiRouter("cloud")
_MAX_VERSION_DIGITS = 9  # versions are PostgreSQL integers


def _version(request: web.Request) -> int:
    raw = request.match_info.get("version", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > _MAX_VERSION_DIGITS or int(raw) < 1:
        raise NotFound(f"No version {raw!r} of this file")
    return int(raw)


@router.get("/cloud/files/{id}/versions", auth="required", response=VersionListOut,
            summary="Saved versions of a file, newest first")
async def list_versions(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows = await rules.list_versions(conn, principal.user_id, path_uuid(request))
    return ok(VersionListOut(versions=[pick(VersionOut, r) for r in rows]))


@router.post("/cloud/files/{id}/versions", auth="required", response=VersionOut, status=201, success_also=(200,),
             summary="Save the current content as a version (200 with the version when it is already saved)")
async def snapshot(request: web.Request, principal: Principal) -> web.Response:
    app, file_id = request.app, path_uuid(request)
    async with unit_of_work(app[keys.db]) as uow:
        row, created = await rules.snapshot(uow, app[collector], principal.user_id, file_id, limits(app[keys.settings]))
    return ok(pick(VersionOut, row), status=201 if created else 200)


@router.post("/cloud/files/{id}/restore/{version}", auth="required", response=FileOut,
             summary="Make a version's content current; the content it replaces is kept as a version")
async def restore(request: web.Request, principal: Principal) -> web.Response:
    app, file_id, number = request.app, path_uuid(request), _version(request)
    async with unit_of_work(app[keys.db]) as uow:
        row = await rules.restore(uow, app[collector], principal.user_id, file_id, number, limits(app[keys.settings]))
    return ok(file_out(row))


@router.get("/cloud/files/{id}/versions/{version}/download", auth="required", produces="*/*",
            success_also=(206,), errors=(416,),
            summary="A saved version's content (single Range, 206/416; saved as an attachment)")
async def download_version(request: web.Request, principal: Principal) -> web.StreamResponse:
    file_id, number = path_uuid(request), _version(request)
    async with request.app[keys.db].connection() as conn:
        file, version = await rules.get_version(conn, principal.user_id, file_id, number)
    return await send_stored(request, version["storage_key"], file["name"], version["mime_type"])
