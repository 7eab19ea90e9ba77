"""The tag vocabulary of tracks and posts, kept with use counts for suggestions."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg


async def adjust(conn: asyncpg.Connection, *, added: Iterable[str], removed: Iterable[str]) -> None:
    """Count tags in on create/edit and out on edit/delete; unused tags disappear."""
    added, removed = sorted(set(added)), sorted(set(removed))
    if added:
        await conn.execute(
            "INSERT INTO tags (name, use_count) SELECT unnest($1::text[]), 1 "
            "ON CONFLICT (name) DO UPDATE SET use_count = tags.use_count + 1", added)
    if removed:
        await conn.execute("UPDATE tags SET use_count = use_count - 1 WHERE name = ANY($1::text[])", removed)
        await conn.execute("DELETE FROM tags WHERE name = ANY($1::text[]) AND use_count <= 0", removed)


async def suggest(conn: asyncpg.Connection, prefix: str, limit: int) -> list[str]:
    """Tags starting with `prefix` (most used first), then similar ones (typos)."""
    rows = await conn.fetch(
        r"""
        WITH starts AS (
            SELECT name, 1 AS tier, use_count::real AS score FROM tags
            WHERE name LIKE replace(replace(replace($1, '\', '\\'), '%', '\%'), '_', '\_') || '%'
            ORDER BY use_count DESC, name LIMIT $2
        ), similar_ AS (
            SELECT name, 2 AS tier, similarity(name, $1) AS score FROM tags
            WHERE name % $1 AND name NOT IN (SELECT name FROM starts)
            ORDER BY score DESC, name LIMIT $2
        )
        SELECT name FROM (SELECT * FROM starts UNION ALL SELECT * FROM similar_) s
        ORDER BY tier, score DESC, name LIMIT $2
        """,
        prefix.lower(), limit)
    return [r["name"] for r in rows]
