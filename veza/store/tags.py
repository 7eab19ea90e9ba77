"""The tag vocabulary of tracks and posts, kept with use counts for suggestions."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg


async def adjust(conn: asyncpg.Connection, *, added: Iterable[str], removed: Iterable[str]) -> None:
    """Count tags in on create/edit and out on edit/delete; unused tags disappear.

    Concurrent edits touch overlapping tag rows, so every row lock is taken by one statement
    walking the names in sorted order: two transactions can never hold each other's next
    row (the deadlock of locking added tags, then removed ones).
    """
    added, removed = set(added), set(removed)
    deltas = {name: 1 for name in added - removed} | {name: -1 for name in removed - added}
    if not deltas:
        return
    names = sorted(deltas)
    # Rows are inserted/locked in the SELECT's ORDER BY order. A removal of an unknown tag
    # inserts a row with a negative count that the DELETE below drops in this transaction.
    await conn.execute(
        "INSERT INTO tags (name, use_count) "
        "SELECT d.name, d.delta FROM unnest($1::text[], $2::int[]) AS d(name, delta) ORDER BY d.name "
        "ON CONFLICT (name) DO UPDATE SET use_count = GREATEST(tags.use_count + EXCLUDED.use_count, 0)",
        names, [deltas[n] for n in names])
    gone = [n for n in names if deltas[n] < 0]
    if gone:  # rows this transaction already locked above: no new lock, no new order
        await conn.execute("DELETE FROM tags WHERE name = ANY($1::text[]) AND use_count <= 0", gone)


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
