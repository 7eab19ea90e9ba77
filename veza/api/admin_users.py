"""Admin decisions about accounts: `PUT /admin/users/:id/role`, `DELETE /admin/users/:id`."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.api import erasure
from veza.domain.roles import change_role
from veza.domain.unit_of_work import unit_of_work
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid

router = ApiRouter("admin")


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["user", "creator", "admin"]


class UserRoleOut(msgspec.Struct):
    id: UUID
    username: str
    email: str
    role: str


@router.put("/admin/users/{id}/role", body=RoleIn, response=UserRoleOut, roles=("admin",), scope="admin",
            summary="Change a user's role (admin; not your own); the user's open sockets take it at once")
async def put_role(request: web.Request, body: RoleIn, principal: Principal) -> web.Response:
    target = path_uuid(request, "id")
    async with unit_of_work(request.app[keys.db]) as uow:
        user = await change_role(uow, request.app[keys.session_events].role_changed, actor_id=principal.user_id,
                                 actor_role=principal.role, target=target, role=body.role)
    return ok(UserRoleOut(id=user["id"], username=user["username"], email=user["email"], role=user["role"]))


erasure.add_admin_routes(router)  # DELETE /admin/users/:id (issue 18)
