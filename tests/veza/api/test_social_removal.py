"""Removing posts and comments (author, owner of what was commented, or a moderator), and
a post's comments by cursor."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

from tests.support import ApiClient, User
from tests.veza.api.track_helpers import make_track


async def _post(client: ApiClient, user: User, content: str = "a post", **extra) -> dict:  # type: ignore[no-untyped-def]
    reply = await client.post("/social/posts", user=user, json={"content": content, **extra})
    assert reply.status == 201, reply.body
    return reply.data


async def _comment(client: ApiClient, user: User, post_id: str, content: str = "a comment") -> dict:  # type: ignore[type-arg]
    reply = await client.post("/social/comments", user=user, json={"post_id": post_id, "content": content})
    assert reply.status == 201, reply.body
    return reply.data


async def _feed_ids(client: ApiClient) -> list[str]:
    return [p["id"] for p in (await client.get("/social/feed", params={"limit": "100"})).data["posts"]]


async def test_a_post_is_deleted_by_its_author_with_its_likes_and_comments(client: ApiClient) -> None:
    author, fan = await client.register(), await client.register()
    post = await _post(client, author, "going away", tags=["gone-soon"])
    await client.post("/social/like", user=fan, json={"post_id": post["id"]})
    await _comment(client, fan, post["id"])
    assert post["id"] in await _feed_ids(client)
    tags = await client.get("/tags/suggest", user=fan, params={"q": "gone-soon"})
    assert tags.status == 200 and "gone-soon" in json.dumps(tags.body)
    assert (await client.delete(f"/social/posts/{post['id']}")).status == 401
    stranger = await client.delete(f"/social/posts/{post['id']}", user=fan)
    assert stranger.status == 403 and stranger.body["code"] == "forbidden"
    gone = await client.delete(f"/social/posts/{post['id']}", user=author)
    assert gone.status == 200 and gone.data == {"message": "Post deleted"}
    assert post["id"] not in await _feed_ids(client)
    trending = await client.get("/social/trending", params={"limit": "100"})
    assert post["id"] not in [p["id"] for p in trending.data["posts"]]
    assert (await client.get(f"/social/posts/{post['id']}/comments")).status == 404
    assert (await client.delete(f"/social/posts/{post['id']}", user=author)).status == 404
    assert (await client.post("/social/like", user=fan, json={"post_id": post["id"]})).status == 404
    tags = await client.get("/tags/suggest", user=fan, params={"q": "gone-soon"})
    assert "gone-soon" not in json.dumps(tags.body)


async def test_a_moderator_deletes_anyones_post_and_ids_that_name_nothing_are_404(client: ApiClient) -> None:
    author, admin = await client.register(), await client.register(role="admin")
    post = await _post(client, author)
    assert (await client.delete(f"/social/posts/{post['id']}", user=admin)).status == 200
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        assert (await client.delete(f"/social/posts/{missing}", user=admin)).status == 404
        assert (await client.delete(f"/social/comments/{missing}", user=admin)).status == 404


async def test_post_comments_walk_newest_first_by_cursor(client: ApiClient) -> None:
    author, fan = await client.register(), await client.register()
    post = await _post(client, author)
    written = [(await _comment(client, fan, post["id"], f"comment {i}"))["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = await client.get(f"/social/posts/{post['id']}/comments", params=params)
        assert page.status == 200, page.body
        assert page.data["total"] == 7
        seen += [c["id"] for c in page.data["comments"]]
        pages += 1
        cursor = page.data["next_cursor"]
        if not page.data["has_more"]:
            assert cursor is None
            break
    assert seen == list(reversed(written)) and pages == 3
    first = (await client.get(f"/social/posts/{post['id']}/comments", params={"limit": "1"})).data["comments"][0]
    assert set(first) == {"id", "post_id", "content", "author_id", "author_username", "created_at"}
    assert first["author_username"] == fan.username and first["post_id"] == post["id"]
    other = await _post(client, author)
    assert (await client.get(f"/social/posts/{other['id']}/comments")).data == {
        "comments": [], "next_cursor": None, "has_more": False, "total": 0}


async def test_garbled_or_foreign_comment_cursors_are_400(client: ApiClient) -> None:
    author = await client.register()
    post = await _post(client, author)
    path = f"/social/posts/{post['id']}/comments"
    sorted_by_title = base64.urlsafe_b64encode(json.dumps(
        {"created_at": "2024-01-01T00:00:00Z", "id": str(uuid.uuid4()), "sort_by": "title", "value": "x"}).encode())
    year_one = base64.urlsafe_b64encode(json.dumps(
        {"created_at": "0001-01-01T00:00:00+14:00", "id": str(uuid.uuid4())}).encode())
    for cursor in ("%%%", "bm90IGpzb24", sorted_by_title.decode(), year_one.decode(), "x" * 600):
        reply = await client.get(path, params={"cursor": cursor})
        assert reply.status == 400 and "cursor" in reply.body["details"], (cursor, reply.body)
    for limit in ("0", "101", "x"):
        assert (await client.get(path, params={"limit": limit})).status == 400
    assert (await client.get(f"/social/posts/{uuid.uuid4()}/comments")).status == 404


async def test_a_post_comment_is_removed_by_its_author_the_posts_author_or_a_moderator(client: ApiClient) -> None:
    author, fan, stranger = await client.register(), await client.register(), await client.register()
    admin = await client.register(role="admin")
    post = await _post(client, author)
    by_fan = [await _comment(client, fan, post["id"]) for _ in range(3)]
    assert (await client.delete(f"/social/comments/{by_fan[0]['id']}")).status == 401
    refused = await client.delete(f"/social/comments/{by_fan[0]['id']}", user=stranger)
    assert refused.status == 403 and "author" in refused.body["error"]
    for remover, comment in ((fan, by_fan[0]), (author, by_fan[1]), (admin, by_fan[2])):
        reply = await client.delete(f"/social/comments/{comment['id']}", user=remover)
        assert reply.status == 200 and reply.data == {"message": "Comment deleted"}
    listing = await client.get(f"/social/posts/{post['id']}/comments")
    assert listing.data["comments"] == [] and listing.data["total"] == 0
    feed_post = next(p for p in (await client.get("/social/feed", params={"limit": "100"})).data["posts"]
                     if p["id"] == post["id"])
    assert feed_post["comment_count"] == 0
    assert (await client.delete(f"/social/comments/{by_fan[0]['id']}", user=fan)).status == 404


async def test_racing_removals_delete_once_and_never_deadlock(client: ApiClient) -> None:
    author, fan = await client.register(), await client.register()
    post = await _post(client, author)
    comment = await _comment(client, fan, post["id"])
    twice = await asyncio.gather(*(client.delete(f"/social/comments/{comment['id']}", user=fan) for _ in range(4)))
    assert sorted(r.status for r in twice) == [200, 404, 404, 404]
    listing = await client.get(f"/social/posts/{post['id']}/comments")
    assert listing.data["total"] == 0
    # A post and its comments removed at the same moment: one order of locks, no 500.
    for _ in range(5):
        post = await _post(client, author)
        batch = [await _comment(client, fan, post["id"]) for _ in range(3)]
        replies = await asyncio.gather(
            client.delete(f"/social/posts/{post['id']}", user=author),
            *(client.delete(f"/social/comments/{c['id']}", user=fan) for c in batch))
        assert replies[0].status == 200, replies[0].body
        assert all(r.status in (200, 404) for r in replies[1:]), [(r.status, r.body) for r in replies]


async def test_a_track_comment_is_removed_by_its_author_the_tracks_owner_or_a_moderator(client: ApiClient) -> None:
    owner, fan, stranger = await client.register(role="creator"), await client.register(), await client.register()
    admin = await client.register(role="admin")
    track = await make_track(client, owner)
    other_track = await make_track(client, owner)
    comments = []
    for _ in range(3):
        reply = await client.post(f"/tracks/{track['id']}/comments", user=fan, json={"content": "great"})
        assert reply.status == 201
        comments.append(reply.data)
    path = f"/tracks/{track['id']}/comments/{comments[0]['id']}"
    assert (await client.delete(path)).status == 401
    assert (await client.delete(path, user=stranger)).status == 403
    # Under another track, or a track/comment id that names nothing: 404, never another's comment.
    assert (await client.delete(f"/tracks/{other_track['id']}/comments/{comments[0]['id']}", user=admin)).status == 404
    assert (await client.delete(f"/tracks/{uuid.uuid4()}/comments/{comments[0]['id']}", user=admin)).status == 404
    assert (await client.delete(f"/tracks/{track['id']}/comments/{uuid.uuid4()}", user=admin)).status == 404
    assert (await client.delete(f"/tracks/{track['id']}/comments/nope", user=admin)).status == 404
    for remover, comment in ((fan, comments[0]), (owner, comments[1]), (admin, comments[2])):
        reply = await client.delete(f"/tracks/{track['id']}/comments/{comment['id']}", user=remover)
        assert reply.status == 200 and reply.data == {"message": "Comment deleted"}
    listing = await client.get(f"/tracks/{track['id']}/comments")
    assert listing.data["comments"] == [] and listing.data["total"] == 0
    assert (await client.get(f"/tracks/{track['id']}")).data["comment_count"] == 0
    assert (await client.delete(path, user=fan)).status == 404
