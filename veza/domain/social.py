"""Posts, their likes and comments, and follows (removing posts and comments:
`veza.domain.comments`).

Rules:
- A post's and a comment's text is required (trimmed, never blank); a post's tags follow
  `veza.domain.tags`; a post may name an existing track.
- Liking a post toggles; a new like, a comment and a new follow notify the one they
  concern (never for one's own action: the notifications store), pushed after commit.
- What the feed must hear (a like, an unlike, a comment) is told after commit through the
  caller's `on_engaged(post_id, kind, delta)`.
- Nobody follows themself; following and unfollowing are idempotent; an unknown user is
  a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from veza.domain import notifications
from veza.domain.errors import Invalid
from veza.domain.tags import normalize_tags
from veza.domain.text import required
from veza.domain.unit_of_work import UnitOfWork
from veza.store import social as store

Push = Callable[[dict[str, Any]], None]
OnEngaged = Callable[[UUID, str, int], None]
EXCERPT = 140  # characters of a comment quoted in its notification


async def create_post(conn: Any, author_id: UUID, content: str, tags: Sequence[str] | None,
                      track_id: UUID | None) -> dict[str, Any]:
    return await store.create_post(conn, author_id=author_id, content=required(content, "content"),
                                   tags=normalize_tags(list(tags) if tags is not None else None), track_id=track_id)


async def toggle_like(uow: UnitOfWork, user_id: UUID, post_id: UUID, *, push: Push,
                      on_engaged: OnEngaged) -> tuple[bool, int]:
    """(liked now, the post's like count)."""
    liked, count, author = await store.toggle_like(uow.conn, post_id, user_id)
    uow.after_commit(on_engaged, post_id, "like", 1 if liked else -1)
    if liked:
        await notifications.notify(uow, push, user_id=author, actor_id=user_id, kind="post_like", subject_id=post_id)
    return liked, count


async def comment(uow: UnitOfWork, user_id: UUID, post_id: UUID, content: str, *, push: Push,
                  on_engaged: OnEngaged) -> dict[str, Any]:
    content = required(content, "content")
    row, author = await store.add_comment(uow.conn, post_id, user_id, content)
    uow.after_commit(on_engaged, post_id, "comment", 1)
    await notifications.notify(uow, push, user_id=author, actor_id=user_id, kind="post_comment", subject_id=post_id,
                               data={"comment_id": str(row["id"]), "excerpt": content[:EXCERPT]})
    return row


def check_follow(follower: UUID, followee: UUID) -> None:
    if follower == followee:
        raise Invalid("You cannot follow yourself", details={"id": "self"})


async def follower_count(conn: Any, user_id: UUID) -> int:
    return (await store.public_profile(conn, user_id, None))["follower_count"]


async def follow(uow: UnitOfWork, follower: UUID, followee: UUID, *, push: Push) -> int:
    """The followee's follower count once `follower` follows them."""
    check_follow(follower, followee)
    if await store.follow(uow.conn, follower, followee):
        await notifications.notify(uow, push, user_id=followee, actor_id=follower, kind="follow", subject_id=follower)
    return await follower_count(uow.conn, followee)


async def unfollow(conn: Any, follower: UUID, followee: UUID) -> int:
    """The followee's follower count once `follower` no longer follows them."""
    await store.unfollow(conn, follower, followee)
    return await follower_count(conn, followee)
