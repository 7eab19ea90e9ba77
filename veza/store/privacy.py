"""Privacy preferences (CCPA Do Not Sell)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from veza.domain.errors import NotFound


async def set_do_not_sell(conn: asyncpg.Connection, user_id: UUID, value: bool) -> dict[str, Any]:
    row = await conn.fetchrow(
        "UPDATE users SET do_not_sell = $2, do_not_sell_updated_at = now() WHERE id = $1"
        " RETURNING do_not_sell, do_not_sell_updated_at",
        user_id, value,
    )
    if row is None:
        raise NotFound("User not found")
    return dict(row)


async def get_preferences(conn: asyncpg.Connection, user_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT do_not_sell, do_not_sell_updated_at FROM users WHERE id = $1", user_id)
    if row is None:
        raise NotFound("User not found")
    return dict(row)
