"""The chat token: a short-lived JWT that opens the WebSocket (Chat section)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from veza import keys
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter
from veza.store import users

router = ApiRouter("chat")


class ChatTokenOut(msgspec.Struct):
    token: str
    expires_in: int


@router.get("/chat/token", response=ChatTokenOut, auth="required",
            summary="A short-lived JWT for the WebSocket (only valid there)")
async def chat_token(request: web.Request, principal: Principal) -> web.Response:
    principal.require_scope("write")  # the socket it opens can post: a read-only key may not have one
    async with request.app[keys.db].connection() as conn:
        user = await users.get_user(conn, principal.user_id)
    issued = request.app[keys.tokens].issue_chat(principal.user_id, principal.role, principal.session_id,
                                                 user["username"])
    return ok(ChatTokenOut(token=issued.token, expires_in=issued.expires_in))
