"""Removing what people wrote: posts, comments on posts, comments on tracks.

One rule for all three: the author may remove it, so may the owner of what it comments on
(a post's author for its comments, a track's owner for its comments), and so may a
moderator (the platform's admins). Anyone else gets a 403; an unknown id, or a comment
asked for under another track, a 404. Each removal locks its row first, so two removals
of the same thing race to one delete and one 404, and the counters move exactly once.
What others must see (the feed's trending, the post's comment count in it) goes after
commit through the callbacks the caller hands in.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from veza.domain.errors import Forbidden
from veza.domain.unit_of_work import UnitOfWork
from veza.store import social, tracks

MODERATOR_ROLES = frozenset({"admin"})


def require_remover(user_id: UUID, role: str, *, what: str, author_id: UUID,
                    owner_id: UUID | None = None, owner: str = "") -> None:
    """The rule above; `owner_id` owns what the `what` comments on, `owner` names them."""
    if user_id == author_id or (owner_id is not None and user_id == owner_id) or role in MODERATOR_ROLES:
        return
    also = f", {owner}" if owner else ""
    raise Forbidden(f"Only the {what}'s author{also} or a moderator may delete it")


async def delete_post(uow: UnitOfWork, user_id: UUID, role: str, post_id: UUID,
                      on_deleted: Callable[[UUID], None]) -> None:
    """The post, its likes and comments; `on_deleted(post_id)` after commit."""
    author_id = await social.lock_post(uow.conn, post_id)
    require_remover(user_id, role, what="post", author_id=author_id)
    await social.delete_post(uow.conn, post_id)
    uow.after_commit(on_deleted, post_id)


async def delete_post_comment(uow: UnitOfWork, user_id: UUID, role: str, comment_id: UUID,
                              on_deleted: Callable[[UUID], None]) -> UUID:
    """The comment; `on_deleted(post_id)` after commit; returns the post's id."""
    comment = await social.lock_comment(uow.conn, comment_id)
    require_remover(user_id, role, what="comment", author_id=comment["author_id"],
                    owner_id=comment["post_author_id"], owner="the post's author")
    await social.delete_comment(uow.conn, comment_id, comment["post_id"])
    uow.after_commit(on_deleted, comment["post_id"])
    return comment["post_id"]


async def delete_track_comment(uow: UnitOfWork, user_id: UUID, role: str, track_id: UUID, comment_id: UUID) -> None:
    comment = await tracks.lock_comment(uow.conn, track_id, comment_id)
    require_remover(user_id, role, what="comment", author_id=comment["author_id"],
                    owner_id=comment["owner_id"], owner="the track's owner")
    await tracks.delete_comment(uow.conn, track_id, comment_id)
