"""Users: accounts, profiles, roles."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import Conflict, NotFound

# Columns safe to show the user themself; password_hash never leaves this module.
_PUBLIC = "id, username, email, role, bio, avatar_url, is_banned, created_at, updated_at"


def _conflict_field(exc: asyncpg.UniqueViolationError) -> str:
    return "email" if "email" in (exc.constraint_name or "") else "username"


async def create_user(conn: asyncpg.Connection, *, username: str, email: str, password_hash: str | None,
                      role: str = "user") -> dict[str, Any]:
    try:
        row = await conn.fetchrow(
            f"INSERT INTO users (username, email, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING {_PUBLIC}",
            username, email, password_hash, role,
        )
    except asyncpg.UniqueViolationError as exc:
        field = _conflict_field(exc)
        raise Conflict(f"This {field} is already registered", details={field: "already taken"}) from None
    return dict(row)


async def get_user(conn: asyncpg.Connection, user_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {_PUBLIC} FROM users WHERE id = $1", user_id)
    if row is None:
        raise NotFound("User not found")
    return dict(row)


async def standing(conn: asyncpg.Connection | asyncpg.Pool, user_id: UUID) -> dict[str, Any] | None:
    """What authorization needs of a user now: role, ban, username."""
    row = await conn.fetchrow("SELECT role, is_banned, username FROM users WHERE id = $1", user_id)
    return dict(row) if row else None


async def find_login(conn: asyncpg.Connection, email: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"SELECT {_PUBLIC}, password_hash FROM users WHERE lower(email) = lower($1)", email)
    return dict(row) if row else None


async def update_password_hash(conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def update_profile(conn: asyncpg.Connection, user_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    allowed = {"username", "bio", "avatar_url"}
    fields = [k for k in changes if k in allowed]
    if not fields:
        return await get_user(conn, user_id)
    assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(fields))
    try:
        row = await conn.fetchrow(
            f"UPDATE users SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {_PUBLIC}",
            user_id, *(changes[k] for k in fields),
        )
    except asyncpg.UniqueViolationError as exc:
        field = _conflict_field(exc)
        raise Conflict(f"This {field} is already taken", details={field: "already taken"}) from None
    if row is None:
        raise NotFound("User not found")
    return dict(row)


async def set_role(conn: asyncpg.Connection, user_id: UUID, role: str) -> dict[str, Any]:
    """Set the user's role; the user as it now is (NotFound for an unknown id)."""
    row = await conn.fetchrow(f"UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING {_PUBLIC}",
                              user_id, role)
    if row is None:
        raise NotFound("User not found")
    return dict(row)


async def username_taken(conn: asyncpg.Connection, username: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1))", username))


async def email_taken(conn: asyncpg.Connection, email: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))", email))
