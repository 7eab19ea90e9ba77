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


# Multipart bodies (read by the handlers): their documented schema (`content_schema=`).
FILE_PART = {"type": "string", "format": "binary"}


def form(properties: dict[str, Any], required: tuple[str, ...] = ("file",)) -> dict[str, Any]:
    """A multipart/form-data body. Other parts are ignored, but a part's name is a header
    parameter: control characters there (\\t, \\r, \\n escaped aside) make the body malformed."""
    return {"type": "object", "required": list(required), "properties": properties,
            "propertyNames": {"pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"}}
