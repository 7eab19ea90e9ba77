"""Conversations over REST (the socket calls them rooms); live changes go through the room's actor.

The rules are `veza.domain.conversations`: non-members of a group or direct conversation
get 404 everywhere, they cannot learn that it exists; public ones are readable by every
signed-in user.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from actors.chat_room import Close, Kick, Rename, Send, announce
from protocols.frames import HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, NO_NUL, ChatMessage, ClientId, Content
from protocols.seq_cursor import BadCursor, SeqCursor
from veza import keys, rooms
from veza.api.schemas import Message
from veza.api.pagination import CURSOR_SCHEMA, DEFAULT_LIMIT, Limit, Offset
from veza.domain import conversations
from veza.domain.messages import chat_message, history as read_history
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest, NotFound
from veza.http.routing import ApiRouter, path_uuid
from veza.store import conversations as store
from veza.store import messages, users
from veza.validation import NOT_BLANK_SCHEMA, documented

log = logging.getLogger("veza.conversations")

router = ApiRouter("conversations")

Name = Annotated[str, msgspec.Meta(max_length=100, pattern=NO_NUL)]


class Peer(msgspec.Struct):
    id: UUID
    username: str


class MemberOut(msgspec.Struct):
    id: UUID
    username: str
    role: str


class ConversationOut(msgspec.Struct):
    id: UUID
    type: str
    name: str
    owner_id: UUID | None
    last_seq: int
    created_at: dt.datetime
    updated_at: dt.datetime
    last_activity_at: dt.datetime
    role: str | None = None
    last_read_seq: int = 0
    unread_count: int = 0
    member_count: int | None = None
    peer: Peer | None = None
    last_message: ChatMessage | None = None
    members: list[MemberOut] | None = None


class ConversationList(msgspec.Struct):
    conversations: list[ConversationOut]
    total: int
    limit: int
    offset: int


class ListQuery(msgspec.Struct):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class CreateIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["direct", "group", "public"]
    name: Name = ""
    members: Annotated[list[UUID], msgspec.Meta(max_length=100)] = []
    user_id: UUID | None = None  # direct: the other user (or the one entry of `members`)


# `veza.domain.conversations.create`'s rules across fields: a direct conversation names one other
# user (user_id, or the one entry of members); a group or public one has a name that is not blank.
NewConversation = Annotated[CreateIn, msgspec.Meta(extra_json_schema={
    "if": {"properties": {"type": {"const": "direct"}}},
    "then": {"anyOf": [{"required": ["user_id"], "properties": {"user_id": {"type": "string"}}},
                       {"required": ["members"], "properties": {"members": {"minItems": 1, "maxItems": 1}}}]},
    "else": {"required": ["name"], "properties": {"name": NOT_BLANK_SCHEMA}},
})]


class UpdateIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]


class HistoryQuery(msgspec.Struct):
    limit: Annotated[int, msgspec.Meta(ge=1, le=HISTORY_MAX_LIMIT)] = HISTORY_DEFAULT_LIMIT
    # "" is the first page, as no cursor is.
    cursor: Annotated[str, msgspec.Meta(max_length=200, extra_json_schema={
        **CURSOR_SCHEMA, "pattern": "^[A-Za-z0-9_+/-]*={0,2}$"})] | None = None


class HistoryOut(msgspec.Struct):
    messages: list[ChatMessage]
    next_cursor: str | None
    has_more: bool


class SendIn(msgspec.Struct, forbid_unknown_fields=True):
    content: Annotated[Content, msgspec.Meta(extra_json_schema=documented(NOT_BLANK_SCHEMA))]
    client_id: ClientId | None = None


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    user_id: UUID
    role: Literal["member", "admin"] = "member"


def _conversation(row: dict[str, Any], **extra: Any) -> ConversationOut:
    fields = {k: row[k] for k in ("id", "type", "name", "owner_id", "last_seq", "created_at", "updated_at",
                                  "last_activity_at")}
    return ConversationOut(**fields, **extra)


async def _access(conn: Any, request: web.Request, principal: Principal) -> conversations.Access:
    return await conversations.access(conn, path_uuid(request, "id"), principal.user_id, principal.role)


async def _notify(app: web.Application, conversation_id: UUID, message: Any) -> None:
    """Tell the room's live actors, on every node, of a REST change (the database has it)."""
    try:
        await announce(app[keys.broker], conversation_id, message)
    except Exception:  # the broker is down: live sockets learn it on their next join
        log.exception("room control announcement failed")


@router.get("/conversations", query=ListQuery, response=ConversationList, auth="required",
            summary="List the user's conversations, newest activity first")
async def list_conversations(request: web.Request, query: ListQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_for_user(conn, principal.user_id, query.limit, query.offset)
        last = await messages.fetch_by_ids(conn, [r["last_message_id"] for r in rows if r["last_message_id"]])
    items = [_conversation(
        r, role=r["role"], last_read_seq=r["last_read_seq"], unread_count=r["unread_count"],
        member_count=r["member_count"], peer=msgspec.convert(r["peer"], Peer) if r["peer"] else None,
        last_message=chat_message(last[r["last_message_id"]]) if r["last_message_id"] in last else None,
    ) for r in rows]
    return ok(ConversationList(conversations=items, total=total, limit=query.limit, offset=query.offset))


@router.post("/conversations", body=NewConversation, response=ConversationOut, status=201, success_also=(200,),
             auth="required",
             summary="Create a conversation (a direct one is found or created once per pair)")
async def create_conversation(request: web.Request, body: CreateIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        made = await conversations.create(conn, principal.user_id, type_=body.type, name=body.name,
                                          members=body.members, peer=body.user_id)
    out = _conversation(made.conversation, role=made.role, members=[MemberOut(**m) for m in made.members],
                        member_count=len(made.members))
    return ok(out, status=201 if made.created else 200)


@router.get("/conversations/public", query=ListQuery, response=ConversationList, auth="optional",
            summary="Public conversations anyone may read and join, newest activity first")
async def list_public(request: web.Request, query: ListQuery, principal: Principal | None) -> web.Response:
    user_id = principal.user_id if principal else None
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_public(conn, user_id, query.limit, query.offset)
    items = [_conversation(r, role=r["role"], member_count=r["member_count"]) for r in rows]
    return ok(ConversationList(conversations=items, total=total, limit=query.limit, offset=query.offset))


@router.get("/conversations/{id}", response=ConversationOut, auth="required", summary="One conversation")
async def get_conversation(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        access = await _access(conn, request, principal)
        row = await store.get_conversation(conn, access.conversation_id)
        members = await store.members(conn, access.conversation_id)
    if row is None:
        raise NotFound(conversations.NOT_FOUND)
    return ok(_conversation(row, role=access.role, last_read_seq=access.last_read_seq,
                            members=[MemberOut(**m) for m in members], member_count=len(members)))


@router.put("/conversations/{id}", body=UpdateIn, response=ConversationOut, auth="required",
            summary="Rename a conversation (its owner or an admin)")
async def update_conversation(request: web.Request, body: UpdateIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        access = await _access(conn, request, principal)
        row = await conversations.rename(conn, access, body.name)
    await _notify(request.app, access.conversation_id, Rename(row["name"]))
    return ok(_conversation(row, role=access.role))


@router.delete("/conversations/{id}", response=Message, auth="required",
               summary="Delete a conversation (its owner or an admin); live members get room_closed")
async def delete_conversation(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        access = await _access(conn, request, principal)
        await conversations.delete(conn, access)
    await _notify(request.app, access.conversation_id, Close())
    return ok(Message(message="Conversation deleted"))


@router.get("/conversations/{id}/history", query=HistoryQuery, response=HistoryOut, auth="required",
            summary="Message history, newest first, with an opaque cursor")
async def history(request: web.Request, query: HistoryQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        access = await _access(conn, request, principal)
        try:
            before = SeqCursor.from_string(query.cursor).before if query.cursor else None
        except BadCursor:
            raise BadRequest("Invalid query parameter 'cursor'", details={"cursor": "malformed cursor"}) from None
        page, has_more = await read_history(conn, access, before, query.limit)
    cursor = SeqCursor(page[-1].seq).to_string() if has_more and page else None
    return ok(HistoryOut(messages=page, next_cursor=cursor, has_more=has_more))


@router.post("/conversations/{id}/messages", body=SendIn, response=ChatMessage, status=201, auth="required",
             summary="Send a message (the same path as the socket: persisted, then broadcast)")
async def send_message(request: web.Request, body: SendIn, principal: Principal) -> web.Response:
    if not body.content.strip():
        raise BadRequest("Message content must not be blank", details={"content": "blank"})
    conversation_id = path_uuid(request, "id")
    async with request.app[keys.db].connection() as conn:
        await conversations.access_for_posting(conn, conversation_id, principal.user_id, principal.role)
        author = await users.get_user(conn, principal.user_id)
    stored = await rooms.ask_room(request.app, conversation_id, Send(principal.user_id, author["username"],
                                                                     body.content, body.client_id))
    return ok(stored, status=201)


@router.post("/conversations/{id}/members", body=MemberIn, response=MemberOut, status=201, success_also=(200,),
             auth="required",
             summary="Add a member (moderators; anyone may join a public conversation themselves); "
                     "200 for one already in, whom role admin promotes")
async def add_member(request: web.Request, body: MemberIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        access = await _access(conn, request, principal)
        member, added = await conversations.add_member(conn, access, body.user_id, body.role)
    return ok(MemberOut(id=member["id"], username=member["username"], role=member["role"]),
              status=201 if added else 200)


@router.delete("/conversations/{id}/members/{user_id}", response=Message, auth="required", errors=(409,),
               summary="Remove a member (moderators), or leave (yourself)")
async def remove_member(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        access = await _access(conn, request, principal)
        target = path_uuid(request, "user_id")
        await conversations.remove_member(conn, access, target)
    await _notify(request.app, access.conversation_id, Kick(target))
    return ok(Message(message="Member removed"))
