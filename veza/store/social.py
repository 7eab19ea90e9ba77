"""Posts, post likes and comments, follows and public profiles."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

from veza.http.errors import BadRequest, NotFound
from veza.store import tags as tag_store

_POST = ("p.id, p.author_id, u.username AS author_username, p.content, p.track_id, p.tags, "
         "p.like_count, p.comment_count, p.created_at")
_FROM = "posts p JOIN users u ON u.id = p.author_id"


async def create_post(conn: asyncpg.Connection, *, author_id: UUID, content: str, tags: list[str],
                      track_id: UUID | None) -> dict[str, Any]:
    if track_id is not None and not await conn.fetchval("SELECT true FROM tracks WHERE id = $1", track_id):
        raise NotFound("Track not found", details={"track_id": "unknown"})
    try:
        post_id = await conn.fetchval(
            "INSERT INTO posts (author_id, content, tags, track_id) VALUES ($1, $2, $3, $4) RETURNING id",
            author_id, content, tags, track_id)
    except asyncpg.ForeignKeyViolationError as exc:
        # The track was deleted since the check above (a concurrent DELETE).
        if "track_id" not in (exc.constraint_name or ""):
            raise
        raise NotFound("Track not found", details={"track_id": "unknown"}) from None
    await tag_store.adjust(conn, added=tags, removed=[])
    return await get_post(conn, post_id)


async def get_post(conn: asyncpg.Connection, post_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(f"SELECT {_POST} FROM {_FROM} WHERE p.id = $1", post_id)
    if row is None:
        raise NotFound("Post not found")
    return dict(row)


async def feed(conn: asyncpg.Connection, *, viewer: UUID | None, after: tuple[dt.datetime, UUID] | None,
               limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Newest first. For a viewer: posts of people they follow and their own first, then
    everyone else's; `after` (created_at, id) is the last post seen, in either part."""
    if viewer is None:
        return await _page(conn, "true", [], after, limit)
    circle = ("(p.author_id = $1 OR p.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1))")
    in_circle = after is None or await conn.fetchval(
        f"SELECT {circle} FROM posts p WHERE p.id = $2", viewer, after[1]) is not False
    rows: list[dict[str, Any]] = []
    if in_circle:
        rows, more = await _page(conn, circle, [viewer], after, limit)
        if more:
            return rows, True
        after = None  # the circle is exhausted: the rest starts from the top
    rest, more = await _page(conn, f"NOT {circle}", [viewer], after, limit - len(rows))
    return rows + rest, more


async def _page(conn: asyncpg.Connection, condition: str, args: list[Any], after: tuple[dt.datetime, UUID] | None,
                limit: int) -> tuple[list[dict[str, Any]], bool]:
    if limit <= 0:
        more = await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM posts p WHERE {condition})", *args)
        return [], bool(more)
    args = list(args)
    where = condition
    if after is not None:
        args += list(after)
        where += f" AND (p.created_at, p.id) < (${len(args) - 1}, ${len(args)})"
    args.append(limit + 1)
    rows = await conn.fetch(
        f"SELECT {_POST} FROM {_FROM} WHERE {where} ORDER BY p.created_at DESC, p.id DESC LIMIT ${len(args)}", *args)
    return [dict(r) for r in rows[:limit]], len(rows) > limit


async def explore(conn: asyncpg.Connection, *, viewer: UUID | None, limit: int, offset: int) -> list[dict[str, Any]]:
    """Posts from the last 30 days by engagement, skipping people the viewer already follows."""
    rows = await conn.fetch(
        f"""SELECT {_POST} FROM {_FROM}
            WHERE p.created_at > now() - interval '30 days'
              AND ($1::uuid IS NULL OR (p.author_id <> $1 AND p.author_id NOT IN
                   (SELECT followee_id FROM follows WHERE follower_id = $1)))
            ORDER BY p.like_count + 2 * p.comment_count DESC, p.created_at DESC, p.id DESC
            LIMIT $2 OFFSET $3""", viewer, limit, offset)
    return [dict(r) for r in rows]


async def posts_by_ids(conn: asyncpg.Connection, ids: list[UUID]) -> list[dict[str, Any]]:
    """Posts in the order of `ids` (missing ones, e.g. deleted, are skipped)."""
    rows = await conn.fetch(f"SELECT {_POST} FROM {_FROM} WHERE p.id = ANY($1::uuid[])", ids)
    by_id = {r["id"]: dict(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


async def toggle_like(conn: asyncpg.Connection, post_id: UUID, user_id: UUID) -> tuple[bool, int, UUID]:
    """(liked now?, like count, post author). Locks the post row so toggles serialize."""
    author = await conn.fetchval("SELECT author_id FROM posts WHERE id = $1 FOR UPDATE", post_id)
    if author is None:
        raise NotFound("Post not found", details={"post_id": "unknown"})
    removed = await conn.fetchval("DELETE FROM post_likes WHERE post_id = $1 AND user_id = $2 RETURNING true",
                                  post_id, user_id)
    if not removed:
        await conn.execute("INSERT INTO post_likes (post_id, user_id) VALUES ($1, $2)", post_id, user_id)
    count = await conn.fetchval(
        "UPDATE posts SET like_count = like_count + $2 WHERE id = $1 RETURNING like_count",
        post_id, -1 if removed else 1)
    return not removed, count, author


async def add_comment(conn: asyncpg.Connection, post_id: UUID, author_id: UUID, content: str
                      ) -> tuple[dict[str, Any], UUID]:
    post_author = await conn.fetchval(
        "UPDATE posts SET comment_count = comment_count + 1 WHERE id = $1 RETURNING author_id", post_id)
    if post_author is None:
        raise NotFound("Post not found", details={"post_id": "unknown"})
    row = await conn.fetchrow(
        """WITH c AS (INSERT INTO post_comments (post_id, author_id, content) VALUES ($1, $2, $3) RETURNING *)
           SELECT c.id, c.post_id, c.content, c.created_at, u.id AS author_id, u.username AS author_username
           FROM c JOIN users u ON u.id = c.author_id""", post_id, author_id, content)
    return dict(row), post_author


async def follow(conn: asyncpg.Connection, follower: UUID, followee: UUID) -> bool:
    """Idempotent; True when the follow is new."""
    if follower == followee:
        raise BadRequest("You cannot follow yourself", details={"id": "self"})
    if not await conn.fetchval("SELECT true FROM users WHERE id = $1", followee):
        raise NotFound("User not found")
    return bool(await conn.fetchval(
        "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        follower, followee))


async def unfollow(conn: asyncpg.Connection, follower: UUID, followee: UUID) -> None:
    if not await conn.fetchval("SELECT true FROM users WHERE id = $1", followee):
        raise NotFound("User not found")
    await conn.execute("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2", follower, followee)


async def public_profile(conn: asyncpg.Connection, user_id: UUID, viewer: UUID | None) -> dict[str, Any]:
    row = await conn.fetchrow(
        """SELECT u.id, u.username, u.role, u.bio, u.avatar_url, u.created_at,
                  (SELECT count(*) FROM follows WHERE followee_id = u.id) AS follower_count,
                  (SELECT count(*) FROM follows WHERE follower_id = u.id) AS following_count,
                  (SELECT count(*) FROM tracks WHERE owner_id = u.id) AS track_count,
                  (SELECT count(*) FROM posts WHERE author_id = u.id) AS post_count,
                  CASE WHEN $2::uuid IS NULL THEN NULL ELSE EXISTS (
                      SELECT 1 FROM follows WHERE follower_id = $2 AND followee_id = u.id) END AS is_following
           FROM users u WHERE u.id = $1 AND NOT u.is_banned""", user_id, viewer)
    if row is None:
        raise NotFound("User not found")
    return dict(row)


async def engagement_since(conn: asyncpg.Connection, since: dt.datetime) -> list[tuple[UUID, float, int, int]]:
    """Recent posts with their counts: what the Feed actor rebuilds trending from."""
    rows = await conn.fetch(
        "SELECT id, extract(epoch FROM created_at)::float8 AS at, like_count, comment_count FROM posts "
        "WHERE created_at > $1 ORDER BY created_at DESC LIMIT 20000", since)
    return [(r["id"], r["at"], r["like_count"], r["comment_count"]) for r in rows]
