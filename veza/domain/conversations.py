"""Conversations: who may see, join, post in, rename, delete and manage one.

One concept, two words on the wire. The REST resource is a *conversation*
(`/conversations/{id}`); the socket protocol's unit is a *room* (`join {room}`, the
`ChatRoom` actor, the hub topic `room:<id>`). Both are the same UUID under the same rules,
written here once; inside `veza` the code says conversation, and says room only where it
speaks the socket protocol (`veza/rooms.py`, `veza/ws/chat.py`, `actors/chat_room.py`).

Rules:
- A non-member can neither read, join, post in, nor learn of a group or direct
  conversation (404). A public one may be read by anyone, anonymous included; any
  signed-in user may join it and post (joining makes them a member).
- Moderators are the conversation's owner and admins, and platform admins.
- A direct conversation names exactly one other user, once per pair; it has no name to
  change and its two members never change. A group or public one needs a name.
- Only the owner (or a platform admin) deletes a conversation or makes admins.
- The owner can neither leave nor be removed; a member may leave; moderators remove
  others and add members; anyone may join a public conversation themselves.
- Adding someone already in never demotes them; asking for admin promotes a member.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from veza.domain.errors import Conflict, Forbidden, Invalid, NotFound
from veza.store import conversations as store

MODERATOR_ROLES = frozenset({"owner", "admin"})
NOT_FOUND = "Conversation not found"
TWO_MEMBERS = "A direct conversation has exactly two members"


@dataclasses.dataclass(frozen=True, slots=True)
class Access:
    """One user's standing in one conversation (what `access` found)."""

    conversation_id: UUID
    type: str
    name: str
    owner_id: UUID | None
    role: str | None  # membership role, None when not a member
    last_read_seq: int
    platform_admin: bool = False
    user_id: UUID | None = None  # the acting user (None: anonymous)

    @property
    def member(self) -> bool:
        return self.role is not None

    @property
    def moderator(self) -> bool:
        return is_moderator(self.role, self.platform_admin)


def is_moderator(role: str | None, platform_admin: bool) -> bool:
    """The moderator rule: the conversation's owner or admins, or a platform admin."""
    return role in MODERATOR_ROLES or platform_admin


def may_see(type_: str, role: str | None, platform_admin: bool) -> bool:
    """Public conversations are seen by all; the others only by members (and platform admins)."""
    return type_ == "public" or role is not None or platform_admin


def require_moderator(access: Access) -> None:
    if not access.moderator:
        raise Forbidden("Only the room's owner or an admin can do this")


async def access(conn: Any, conversation_id: UUID, user_id: UUID | None, platform_role: str | None = None) -> Access:
    """What the caller may see of the conversation; NotFound when they may not even know it exists."""
    row = await store.access(conn, conversation_id, user_id)
    admin = platform_role == "admin"
    if row is None or not may_see(row["type"], row["role"], admin):
        raise NotFound(NOT_FOUND)
    return Access(conversation_id=row["id"], type=row["type"], name=row["name"], owner_id=row["owner_id"],
                  role=row["role"], last_read_seq=row["last_read_seq"], platform_admin=admin, user_id=user_id)


async def access_for_posting(conn: Any, conversation_id: UUID, user_id: UUID, platform_role: str | None) -> Access:
    """Members post; in a public conversation a signed-in user becomes a member by posting or joining."""
    found = await access(conn, conversation_id, user_id, platform_role)
    if found.member:
        return found
    if found.type != "public":
        raise NotFound(NOT_FOUND)
    await store.add_member(conn, conversation_id, user_id)
    return dataclasses.replace(found, role="member")


async def access_for_joining(conn: Any, conversation_id: UUID, user_id: UUID | None,
                             platform_role: str | None) -> Access:
    """A socket's `join`: anonymous sockets read public conversations only; a signed-in one
    joins as it would post."""
    if user_id is None:
        return await access(conn, conversation_id, None)
    return await access_for_posting(conn, conversation_id, user_id, platform_role)


# ---- creating ------------------------------------------------------------------------------

def direct_peer(user_id: UUID, peer: UUID | None, members: Sequence[UUID]) -> UUID:
    """The other user of a direct conversation: `peer`, or the one entry of `members`."""
    peers = [peer] if peer else list(members)
    if len(peers) != 1:
        raise Invalid("A direct conversation names exactly one other user",
                      details={"user_id": "required: the other user"})
    if peers[0] == user_id:
        raise Invalid("A direct conversation needs another user", details={"members": "must name another user"})
    return peers[0]


def group_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid("A group or public conversation needs a name", details={"name": "required"})
    return name


@dataclasses.dataclass(frozen=True, slots=True)
class Created:
    conversation: dict[str, Any]
    created: bool  # False: the pair's direct conversation already existed
    role: str  # the creator's
    members: list[dict[str, Any]]


async def create(conn: Any, user_id: UUID, *, type_: str, name: str, members: Sequence[UUID],
                 peer: UUID | None = None) -> Created:
    """A direct conversation is found or created once per pair; a group or public one is
    created with its creator as owner."""
    if type_ == "direct":
        row, created = await store.find_or_create_direct(conn, user_id, direct_peer(user_id, peer, members))
        role = "member"
    else:
        row, created = await store.create_conversation(conn, type_=type_, name=group_name(name), owner_id=user_id,
                                               members=members), True
        role = "owner"
    return Created(row, created, role, await store.members(conn, row["id"]))


# ---- changing ------------------------------------------------------------------------------

def check_rename(access: Access) -> None:
    if access.type == "direct":
        raise Invalid("A direct conversation has no name to change", details={"name": "not for direct"})
    require_moderator(access)


async def rename(conn: Any, access: Access, name: str) -> dict[str, Any]:
    check_rename(access)
    return await store.rename(conn, access.conversation_id, name.strip() or name)


def check_delete(access: Access) -> None:
    if access.role != "owner" and not access.platform_admin:
        raise Forbidden("Only the owner or an admin can delete a conversation")


async def delete(conn: Any, access: Access) -> None:
    check_delete(access)
    if not await store.delete_conversation(conn, access.conversation_id):
        raise NotFound(NOT_FOUND)


def check_add_member(access: Access, user_id: UUID, role: str) -> None:
    if access.type == "direct":
        raise Invalid(TWO_MEMBERS, details={"user_id": "not for direct"})
    joining_self = user_id == access.user_id and role == "member"
    if not (joining_self and access.type == "public"):
        require_moderator(access)
    if role == "admin" and access.role != "owner" and not access.platform_admin:
        raise Forbidden("Only the owner can make admins")


async def add_member(conn: Any, access: Access, user_id: UUID, role: str) -> tuple[dict[str, Any], bool]:
    """(the member, added): run it in the caller's transaction."""
    check_add_member(access, user_id, role)
    existing = await store.get_member(conn, access.conversation_id, user_id)
    if existing is None:
        return await store.add_member(conn, access.conversation_id, user_id, role), True
    if role == "admin":
        await store.promote(conn, access.conversation_id, user_id)
    return await store.get_member(conn, access.conversation_id, user_id) or existing, False


def check_remove_member(access: Access, user_id: UUID) -> None:
    if access.type == "direct":
        raise Invalid(TWO_MEMBERS, details={"user_id": "not for direct"})
    if user_id == access.owner_id:
        raise Conflict("The owner cannot leave or be removed: delete the conversation instead")
    if user_id != access.user_id:
        require_moderator(access)


async def remove_member(conn: Any, access: Access, user_id: UUID) -> None:
    check_remove_member(access, user_id)
    if not await store.remove_member(conn, access.conversation_id, user_id):
        raise NotFound("Member not found")
