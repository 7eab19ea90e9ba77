"""Response shapes shared by several domains (declared once, documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec


class UserRef(msgspec.Struct):
    id: UUID
    username: str
    email: str


class UserProfile(msgspec.Struct):
    id: UUID
    username: str
    email: str
    role: str
    bio: str
    avatar_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class Message(msgspec.Struct):
    message: str


def user_ref(user: dict[str, Any]) -> UserRef:
    return UserRef(id=user["id"], username=user["username"], email=user["email"])


def user_profile(user: dict[str, Any]) -> UserProfile:
    return UserProfile(**{f: user[f] for f in UserProfile.__struct_fields__})
