"""Developer API keys: who may manage them, what a key may carry, how many a user holds.

Rules:
- Keys are managed with the user's own token, never with a key: a leaked key cannot
  mint, list or revoke keys (403).
- A key's name is required; its scopes are known ones, at least one, and an area only
  beside a level (`veza.security.scopes`); the admin scope is for admins only (403).
- At most MAX_KEYS_PER_USER keys per user; the count is taken under a per-user lock, so
  concurrent creations cannot pass it.
- A user lists and deletes only their own keys (another's is a 404, like an unknown one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from veza.domain.errors import Forbidden, Invalid
from veza.security.scopes import ADMIN, SCOPES, missing_level
from veza.store import api_keys as store

MAX_KEYS_PER_USER = 25


def check_manager(via: str) -> None:
    """`via`: how the caller authenticated ("jwt", "api_key", ...)."""
    if via == "api_key":
        raise Forbidden("API keys cannot manage API keys; use a Bearer token")


def granted_scopes(name: str, scopes: Sequence[str], role: str) -> list[str]:
    """The scopes a new key of `role`'s user is given, de-duplicated and sorted."""
    if not scopes or any(s not in SCOPES for s in scopes):
        raise Invalid("Unknown or empty scopes", details={"scopes": f"each one of {', '.join(SCOPES)}"})
    if missing_level(set(scopes)):
        raise Invalid("Area scopes only narrow a level: add 'read' or 'write'",
                      details={"scopes": "an area (tracks, chat, live, marketplace) needs 'read' or 'write' beside it"})
    if not name.strip():
        raise Invalid("Invalid name: must not be blank", details={"name": "must not be blank"})
    if ADMIN in scopes and role != "admin":
        raise Forbidden("Only admins may create keys with the admin scope")
    return sorted(set(scopes))


async def create(conn: Any, user_id: UUID, role: str, via: str, *, name: str, scopes: Sequence[str],
                 prefix: str, key_hash: str) -> dict[str, Any]:
    """A new key (its hash and prefix made by `veza.security.api_keys.generate`); call in a
    transaction: the per-user lock holds until it ends."""
    check_manager(via)
    granted = granted_scopes(name, scopes, role)
    if await store.count_for_user_locked(conn, user_id) >= MAX_KEYS_PER_USER:
        raise Invalid(f"At most {MAX_KEYS_PER_USER} API keys per user", details={"api_keys": "limit reached"})
    return await store.create(conn, user_id=user_id, name=name.strip(), prefix=prefix, key_hash=key_hash,
                              scopes=granted)


async def list_keys(conn: Any, user_id: UUID, via: str) -> list[dict[str, Any]]:
    check_manager(via)
    return await store.list_for_user(conn, user_id)


async def delete(conn: Any, user_id: UUID, via: str, key_id: UUID) -> None:
    check_manager(via)
    await store.delete(conn, user_id, key_id)
