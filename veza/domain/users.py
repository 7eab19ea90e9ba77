"""A user's own profile: what they may set their username, bio and avatar to.

The username follows the registration rule and the avatar is an http(s) URL
(`veza.validation`); an empty avatar URL clears it. Every broken rule is reported at
once, in `details`; a username already taken is the store's 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from veza.domain.errors import Invalid
from veza.store import users as store
from veza.validation import url_problems, username_problems


def profile_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields in their stored form."""
    problems = {}
    if "username" in changes and (p := username_problems(changes["username"])):
        problems["username"] = p[0]
    if changes.get("avatar_url") and (p := url_problems(changes["avatar_url"])):
        problems["avatar_url"] = p[0]
    if problems:
        field, why = next(iter(problems.items()))
        raise Invalid(f"Invalid {field}: {why}", details=problems)
    out = dict(changes)
    if out.get("avatar_url") == "":
        out["avatar_url"] = None
    return out


async def update_profile(conn: Any, user_id: UUID, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The user as they now are."""
    return await store.update_profile(conn, user_id, profile_changes(changes))
