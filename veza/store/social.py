"""Posts, post likes and comments, follows and public profiles."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

from protocols.cursor import CIRCLE_HASH_CHARS, MAX_CIRCLE
from veza.domain.errors import NotFound
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


@dataclasses.dataclass(frozen=True, slots=True)
class Circle:
    """Who counts as "followed" for one scroll of a viewer's feed, fixed at its first page:
    hashes of the followees then (none when more than fit in a cursor) and the time."""
    since: dt.datetime
    hashes: tuple[str, ...]


async def circle_snapshot(conn: asyncpg.Connection, viewer: UUID) -> Circle:
    row = await conn.fetchrow(
        "SELECT now() AS since, ARRAY(SELECT DISTINCT left(md5(followee_id::text), $2) FROM follows "
        "WHERE follower_id = $1 LIMIT $3) AS hashes", viewer, CIRCLE_HASH_CHARS, MAX_CIRCLE + 1)
    hashes = tuple(sorted(row["hashes"]))
    return Circle(row["since"], hashes if len(hashes) <= MAX_CIRCLE else ())


async def feed(conn: asyncpg.Connection, *, viewer: UUID | None, circle: Circle | None,
               after: tuple[int, dt.datetime, UUID] | None, limit: int) -> tuple[list[dict[str, Any]], bool, int]:
    """Newest first: (posts, more?, rank of the last one). For a viewer, ordered by
    (rank, created_at DESC, id DESC): rank 0 for their own posts and those of their `circle`,
    1 for everyone else's. `after` is the (rank, created_at, id) of the last post seen.

    Guarantee: ranks come from the circle frozen at the first page, never from the live
    follows, so following or unfollowing mid-scroll cannot move a post across the cursor:
    a scroll never shows a post twice and never skips one that existed all along.
    Follows made during the scroll count from the next scroll on. Limits, both by design
    of a bounded cursor: a stranger whose short hash equals a followee's ranks with the
    circle for that scroll (consistently, so still no repeat or skip; odds 1 in 2**24 per
    followee); and for a viewer following more than MAX_CIRCLE accounts the cursor
    holds only `since`, the circle being "followed at or before since" - then follows
    still change nothing, but unfollowing someone mid-scroll can show that account's
    already-seen posts again (it never skips one).
    """
    if viewer is None or circle is None:
        rows, more = await _page(conn, "true", [], after[1:] if after else None, limit)
        return rows, more, 1
    in_circle = ("(p.author_id = $1 OR left(md5(p.author_id::text), $2) = ANY($3::text[]) OR p.author_id IN "
                 "(SELECT followee_id FROM follows WHERE follower_id = $1 AND created_at <= $4))")
    args = [viewer, CIRCLE_HASH_CHARS, list(circle.hashes), circle.since]
    rows: list[dict[str, Any]] = []
    if after is None or after[0] == 0:
        rows, more = await _page(conn, in_circle, args, after[1:] if after else None, limit)
        if more:
            return rows, True, 0
        after = None  # the circle is exhausted: the rest starts from the top
    rest, more = await _page(conn, f"NOT {in_circle}", args, after[1:] if after else None, limit - len(rows))
    return rows + rest, more, 1 if rest else 0


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
    """Idempotent; True when the follow is new (that nobody follows themself is
    `veza.domain.social`'s rule)."""
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


# Removal (the rules are in veza/domain/comments.py): lock, then delete; counters move once.

async def lock_post(conn: asyncpg.Connection, post_id: UUID) -> UUID:
    """The post's author, its row locked until the transaction ends."""
    author = await conn.fetchval("SELECT author_id FROM posts WHERE id = $1 FOR UPDATE", post_id)
    if author is None:
        raise NotFound("Post not found")
    return author


async def delete_post(conn: asyncpg.Connection, post_id: UUID) -> None:
    """Its likes and comments go with it (ON DELETE CASCADE); its tags are counted down."""
    tags = await conn.fetchval("DELETE FROM posts WHERE id = $1 RETURNING tags", post_id)
    if tags is None:
        raise NotFound("Post not found")
    await tag_store.adjust(conn, added=[], removed=tags)


async def lock_comment(conn: asyncpg.Connection, comment_id: UUID) -> dict[str, Any]:
    """{author_id, post_id, post_author_id} of a post comment, the post's row locked first
    and then the comment's: a post's removal (post row, then its comments by cascade) and
    a comment's must take them in the same order, or they deadlock."""
    post = await conn.fetchrow(
        "SELECT id, author_id FROM posts WHERE id = (SELECT post_id FROM post_comments WHERE id = $1) "
        "FOR NO KEY UPDATE", comment_id)
    author = None if post is None else await conn.fetchval(
        "SELECT author_id FROM post_comments WHERE id = $1 AND post_id = $2 FOR UPDATE", comment_id, post["id"])
    if author is None:
        raise NotFound("Comment not found")
    return {"author_id": author, "post_id": post["id"], "post_author_id": post["author_id"]}


async def delete_comment(conn: asyncpg.Connection, comment_id: UUID, post_id: UUID) -> None:
    deleted = await conn.fetchval("DELETE FROM post_comments WHERE id = $1 RETURNING true", comment_id)
    if not deleted:
        raise NotFound("Comment not found")
    await conn.execute("UPDATE posts SET comment_count = comment_count - 1 WHERE id = $1 AND comment_count > 0",
                       post_id)


async def list_comments(conn: asyncpg.Connection, post_id: UUID, after: tuple[dt.datetime, UUID] | None,
                        limit: int) -> tuple[list[dict[str, Any]], bool, int]:
    """A post's comments newest first, after the (created_at, id) last seen: (rows, more?, total)."""
    total = await conn.fetchval("SELECT comment_count FROM posts WHERE id = $1", post_id)
    if total is None:
        raise NotFound("Post not found")
    args: list[Any] = [post_id, limit + 1]
    seek = ""
    if after is not None:
        args += list(after)
        seek = "AND (c.created_at, c.id) < ($3, $4)"
    rows = await conn.fetch(
        f"""SELECT c.id, c.post_id, c.content, c.created_at, u.id AS author_id, u.username AS author_username
            FROM post_comments c JOIN users u ON u.id = c.author_id WHERE c.post_id = $1 {seek}
            ORDER BY c.created_at DESC, c.id DESC LIMIT $2""", *args)
    return [dict(r) for r in rows[:limit]], len(rows) > limit, total
