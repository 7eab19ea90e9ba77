"""Posts, the comments and likes the user gave (on tracks and posts), and follows both ways
(who they follow, who follows them: public usernames only)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.export_registry import Archive, exporter
from veza.store.exporters import stream


@exporter("social", covers=("posts.author_id", "track_comments.author_id", "post_comments.author_id",
                            "track_likes.user_id", "post_likes.user_id", "follows.follower_id",
                            "follows.followee_id"))
async def social(archive: Archive, conn: Any, user_id: UUID) -> None:
    await archive.rows("posts.jsonl", stream(
        conn, "SELECT id, content, track_id, tags, like_count, comment_count, created_at FROM posts"
              " WHERE author_id = $1 ORDER BY created_at, id", user_id))
    await archive.rows("comments.jsonl", stream(
        conn, "SELECT id, 'track' AS on_type, track_id AS on_id, content, created_at FROM track_comments"
              " WHERE author_id = $1"
              " UNION ALL SELECT id, 'post', post_id, content, created_at FROM post_comments WHERE author_id = $1"
              " ORDER BY created_at, id", user_id))
    await archive.rows("likes.jsonl", stream(
        conn, "SELECT 'track' AS on_type, track_id AS on_id, created_at FROM track_likes WHERE user_id = $1"
              " UNION ALL SELECT 'post', post_id, created_at FROM post_likes WHERE user_id = $1"
              " ORDER BY created_at, on_id", user_id))
    await archive.rows("follows.jsonl", stream(
        conn, "SELECT 'following' AS direction, u.id AS user_id, u.username, f.created_at"
              " FROM follows f JOIN users u ON u.id = f.followee_id WHERE f.follower_id = $1"
              " UNION ALL SELECT 'follower', u.id, u.username, f.created_at"
              " FROM follows f JOIN users u ON u.id = f.follower_id WHERE f.followee_id = $1"
              " ORDER BY created_at, user_id", user_id))
