"""Posts, the feed cursor, explore, trending, post likes and comments."""

from __future__ import annotations

import asyncio
import base64
import uuid

from tests.support import ApiClient, User


async def _post(client: ApiClient, user: User, content: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    reply = await client.post("/social/posts", user=user, json={"content": content, **extra})
    assert reply.status == 201, reply.body
    return reply.data


async def _walk_feed(client: ApiClient, user: User | None, limit: int) -> list[str]:
    seen, cursor = [], None
    for _ in range(200):
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = await client.get("/social/feed", user=user, params=params)
        assert reply.status == 200, reply.body
        seen += [p["id"] for p in reply.data["posts"]]
        cursor = reply.data["next_cursor"]
        if not reply.data["has_more"]:
            return seen
    raise AssertionError("feed walk did not end")


async def test_create_post_and_bad_input(client: ApiClient) -> None:
    me = await client.register()
    post = await _post(client, me, "  Hello world  ", tags=["Lo-Fi", "lo-fi", "chill"])
    assert post["content"] == "Hello world" and post["tags"] == ["lo-fi", "chill"]
    assert post["author_username"] == me.username and post["like_count"] == 0
    for body in ({"content": ""}, {"content": "   "}, {"content": "x" * 5001}, {}, {"content": "ok", "tags": ["x" * 51]},
                 {"content": "ok", "tags": [f"t{i}" for i in range(21)]}, {"content": "ok", "extra": 1},
                 {"content": "ok", "track_id": "not-a-uuid"}):
        reply = await client.post("/social/posts", user=me, json=body)
        assert reply.status == 400, (body, reply.body)
    assert (await client.post("/social/posts", json={"content": "hi"})).status == 401
    unknown_track = await client.post("/social/posts", user=me, json={"content": "hi", "track_id": str(uuid.uuid4())})
    assert unknown_track.status == 404


async def test_feed_cursor_is_reference_format_and_walks_everything(client: ApiClient) -> None:
    author = await client.register()
    ids = [(await _post(client, author, f"post {i}"))["id"] for i in range(7)]
    first = await client.get("/social/feed", params={"limit": "3"})
    assert first.data["personalized"] is False and first.data["has_more"] is True
    raw = first.data["next_cursor"]
    decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    nanos, ident = decoded.split("|")
    assert nanos.isdigit() and len(nanos) >= 19 and ident == first.data["posts"][-1]["id"]
    walked = await _walk_feed(client, None, 2)
    assert [i for i in walked if i in ids] == list(reversed(ids))
    assert len(walked) == len(set(walked))


async def test_feed_is_personalised_followed_and_own_first(client: ApiClient) -> None:
    me, friend, stranger = await client.register(), await client.register(), await client.register()
    await client.post(f"/users/{friend.id}/follow", user=me)
    mine = await _post(client, me, "mine")
    theirs = await _post(client, friend, "friend's")
    strangers = [(await _post(client, stranger, f"stranger {i}"))["id"] for i in range(3)]
    newest = await _post(client, stranger, "newest of all")
    walked = await _walk_feed(client, me, 2)
    assert walked[:2] == [theirs["id"], mine["id"]]
    rest = [i for i in walked[2:] if i in strangers + [newest["id"]]]
    assert rest == [newest["id"], *reversed(strangers)]
    assert len(walked) == len(set(walked))
    anonymous = (await client.get("/social/feed", params={"limit": "1"})).data
    assert anonymous["posts"][0]["id"] == newest["id"] and anonymous["personalized"] is False


async def test_garbled_feed_cursor_is_400(client: ApiClient) -> None:
    enc = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    for cursor in ("%%%", enc("hello"), enc("123|not-a-uuid"), enc(f"abc|{uuid.uuid4()}"), enc(f"-5|{uuid.uuid4()}"),
                   enc(f"{'9' * 25}|{uuid.uuid4()}"), "A" * 600):
        reply = await client.get("/social/feed", params={"cursor": cursor})
        assert reply.status == 400, (cursor, reply.body)
    assert (await client.get("/social/feed", params={"limit": "0"})).status == 400
    assert (await client.get("/social/feed", params={"limit": "101"})).status == 400


async def test_post_like_toggles_and_comments(client: ApiClient) -> None:
    author, fan = await client.register(), await client.register()
    post = await _post(client, author, "like me")
    on = await client.post("/social/like", user=fan, json={"post_id": post["id"]})
    assert on.status == 200 and on.data == {"post_id": post["id"], "liked": True, "like_count": 1}
    off = await client.post("/social/like", user=fan, json={"post_id": post["id"]})
    assert off.data == {"post_id": post["id"], "liked": False, "like_count": 0}
    racers = [await client.register() for _ in range(5)]
    await asyncio.gather(*(client.post("/social/like", user=r, json={"post_id": post["id"]}) for r in racers))
    comment = await client.post("/social/comments", user=fan, json={"post_id": post["id"], "content": "nice"})
    assert comment.status == 201 and comment.data["content"] == "nice"
    feed = (await client.get("/social/feed", params={"limit": "100"})).data["posts"]
    mine = next(p for p in feed if p["id"] == post["id"])
    assert mine["like_count"] == 5 and mine["comment_count"] == 1
    for body in ({"post_id": post["id"], "content": ""}, {"post_id": post["id"], "content": "x" * 2001},
                 {"post_id": "nope", "content": "x"}, {"content": "x"}):
        assert (await client.post("/social/comments", user=fan, json=body)).status == 400, body
    unknown = str(uuid.uuid4())
    assert (await client.post("/social/comments", user=fan, json={"post_id": unknown, "content": "x"})).status == 404
    assert (await client.post("/social/like", user=fan, json={"post_id": unknown})).status == 404
    assert (await client.post("/social/like", json={"post_id": post["id"]})).status == 401
    kinds = [n["kind"] for n in (await client.get("/notifications", user=author, params={"limit": "100"})).data["notifications"]]
    assert kinds.count("post_like") == 6 and kinds.count("post_comment") == 1


async def test_trending_ranks_engagement_and_explore_skips_followed(client: ApiClient) -> None:
    author, other = await client.register(), await client.register()
    quiet = await _post(client, author, "quiet")
    loud = await _post(client, other, "loud")
    fans = [await client.register() for _ in range(3)]
    for fan in fans:
        await client.post("/social/like", user=fan, json={"post_id": loud["id"]})
    await client.post("/social/comments", user=fans[0], json={"post_id": quiet["id"], "content": "hi"})
    trending = await client.get("/social/trending", params={"limit": "50"})
    assert trending.status == 200
    order = [p["id"] for p in trending.data["posts"]]
    assert order.index(loud["id"]) < order.index(quiet["id"])
    scores = {p["id"]: p["score"] for p in trending.data["posts"]}
    assert scores[loud["id"]] > scores[quiet["id"]] > 0
    viewer = await client.register()
    await client.post(f"/users/{other.id}/follow", user=viewer)
    explore = await client.get("/social/explore", user=viewer, params={"limit": "100"})
    ids = [p["id"] for p in explore.data["posts"]]
    assert loud["id"] not in ids and quiet["id"] in ids
    public = await client.get("/social/explore", params={"limit": "100"})
    assert loud["id"] in [p["id"] for p in public.data["posts"]]
    assert (await client.get("/social/trending", params={"limit": "0"})).status == 400
