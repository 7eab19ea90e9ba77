"""Cloud folders: create, list, get, rename or move, delete (with everything inside)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from veza import keys
from veza.api.cloud_schemas import FolderIn, FolderListOut, FolderListQuery, FolderOut, FolderPatchIn, given, pick
from veza.api.cloud_setup import collector, limits
from veza.api.schemas import Message
from veza.domain import cloud_folders as rules
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.store import cloud_folders as store

router = ApiRouter("cloud")


def _out(row: dict[str, Any]) -> FolderOut:
    return pick(FolderOut, row)


@router.post("/cloud/folders", auth="required", body=FolderIn, response=FolderOut, status=201, errors=(409,),
             summary="Create a folder (parent_id omitted: at the root)")
async def create_folder(request: web.Request, body: FolderIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        return ok(_out(await rules.create_folder(conn, principal.user_id, body.parent_id, body.name)), status=201)


@router.get("/cloud/folders", auth="required", query=FolderListQuery, response=FolderListOut, errors=(404,),
            summary="My folders directly inside one folder (the root by default), by name")
async def list_folders(request: web.Request, query: FolderListQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        if query.parent_id is not None:
            await store.get(conn, principal.user_id, query.parent_id)
        rows, total = await store.page(conn, principal.user_id, query.parent_id, query.limit, query.offset)
    return ok(FolderListOut(folders=[_out(r) for r in rows], total=total))


@router.get("/cloud/folders/{id}", auth="required", response=FolderOut, summary="One of my folders")
async def get_folder(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(_out(await store.get(conn, principal.user_id, path_uuid(request))))


@router.patch("/cloud/folders/{id}", auth="required", body=FolderPatchIn, response=FolderOut, errors=(409,),
              summary="Rename a folder and/or move it (parent_id null: to the root)")
async def patch_folder(request: web.Request, body: FolderPatchIn, principal: Principal) -> web.Response:
    folder_id = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        return ok(_out(await rules.update_folder(conn, principal.user_id, folder_id, given(body))))


@router.delete("/cloud/folders/{id}", auth="required", response=Message,
               summary="Delete a folder with its subfolders and files; their bytes are freed after commit")
async def delete_folder(request: web.Request, principal: Principal) -> web.Response:
    app, folder_id = request.app, path_uuid(request)
    async with unit_of_work(app[keys.db]) as uow:
        await rules.delete_folder(uow, app[collector], principal.user_id, folder_id, limits(app[keys.settings]))
    return ok(Message(message="Folder deleted"))
