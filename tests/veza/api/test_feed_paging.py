"""Scrolling the personalized feed while following or unfollowing: no repeats, no skips."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable

from protocols.cursor import MAX_CIRCLE
from tests.support import ApiClient, User


async def _setup(client: ApiClient) -> tuple[User, User, User, dict[str, str]]:
    """Viewer V follows F; F and O alternate posting o0, f0, o1, f1, o2, f2 (the newest posts)."""
    viewer, friend, other = await client.register(), await client.register(), await client.register()
    assert (await client.post(f"/users/{friend.id}/follow", user=viewer)).status in (200, 201)
    names: dict[str, str] = {}
    for i in range(3):
        for label, author in (("o", other), ("f", friend)):
            reply = await client.post("/social/posts", user=author, json={"content": f"{label}{i}"})
            assert reply.status == 201, reply.body
            names[reply.data["id"]] = f"{label}{i}"
    return viewer, friend, other, names


async def _page(client: ApiClient, viewer: User, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    reply = await client.get("/social/feed", user=viewer, params=params)
    assert reply.status == 200, reply.body
    return [p["id"] for p in reply.data["posts"]], reply.data["next_cursor"]


async def _scroll(client: ApiClient, viewer: User, names: dict[str, str], first_limit: int,
                  change: Callable[[], Awaitable[None]]) -> list[str]:
    """The six posts as one scroll shows them: a first page, `change()`, then pages of 2
    until all six were shown, and two pages more (older posts only, unless one repeats)."""
    ids, cursor = await _page(client, viewer, first_limit, None)
    await change()
    extra = 2
    for _ in range(100):
        if cursor is None or (set(names) <= set(ids) and (extra := extra - 1) < 0):
            break
        page, cursor = await _page(client, viewer, 2, cursor)
        ids += page
    return [names[i] for i in ids if i in names]


async def test_a_normal_scroll_puts_the_followed_first(client: ApiClient) -> None:
    viewer, _, _, names = await _setup(client)

    async def nothing() -> None:
        return None

    assert await _scroll(client, viewer, names, 2, nothing) == ["f2", "f1", "f0", "o2", "o1", "o0"]


async def test_following_mid_scroll_repeats_and_skips_nothing(client: ApiClient) -> None:
    viewer, _, other, names = await _setup(client)

    async def follow_other() -> None:
        assert (await client.post(f"/users/{other.id}/follow", user=viewer)).status in (200, 201)

    assert await _scroll(client, viewer, names, 4, follow_other) == ["f2", "f1", "f0", "o2", "o1", "o0"]
    # The next scroll sees the new circle.
    assert await _scroll(client, viewer, names, 6, follow_other) == ["f2", "o2", "f1", "o1", "f0", "o0"]


async def test_unfollowing_mid_scroll_repeats_and_skips_nothing(client: ApiClient) -> None:
    viewer, friend, _, names = await _setup(client)

    async def unfollow_friend() -> None:
        assert (await client.delete(f"/users/{friend.id}/follow", user=viewer)).status in (200, 204)

    assert await _scroll(client, viewer, names, 2, unfollow_friend) == ["f2", "f1", "f0", "o2", "o1", "o0"]
    # From the circle into the rest, then unfollowing: still each post once.
    viewer2, friend2, _, names2 = await _setup(client)

    async def unfollow_friend2() -> None:
        assert (await client.delete(f"/users/{friend2.id}/follow", user=viewer2)).status in (200, 204)

    assert await _scroll(client, viewer2, names2, 4, unfollow_friend2) == ["f2", "f1", "f0", "o2", "o1", "o0"]


async def test_a_big_circle_still_never_skips(client: ApiClient) -> None:
    """Past MAX_CIRCLE followees the cursor bounds the circle by time: following is still
    exact; unfollowing may repeat that account's posts (documented) but never skips one."""
    viewer, friend, other, names = await _setup(client)
    for _ in range(MAX_CIRCLE):
        extra = await client.register()
        assert (await client.post(f"/users/{extra.id}/follow", user=viewer)).status in (200, 201)

    async def follow_other() -> None:
        assert (await client.post(f"/users/{other.id}/follow", user=viewer)).status in (200, 201)

    assert await _scroll(client, viewer, names, 4, follow_other) == ["f2", "f1", "f0", "o2", "o1", "o0"]

    async def unfollow() -> None:
        assert (await client.delete(f"/users/{friend.id}/follow", user=viewer)).status in (200, 204)

    shown = await _scroll(client, viewer, names, 1, unfollow)  # the circle is now F and O
    assert set(shown) == set(names.values())


async def test_cursor_of_the_other_feed_is_a_clear_400(client: ApiClient) -> None:
    viewer, _, _, _ = await _setup(client)
    _, personal = await _page(client, viewer, 1, None)
    public = (await client.get("/social/feed", params={"limit": "1"})).data["next_cursor"]
    assert personal and public
    anonymous = await client.get("/social/feed", params={"cursor": personal})
    assert anonymous.status == 400 and anonymous.body["details"] == {"cursor": "personalized"}
    legacy = await client.get("/social/feed", user=viewer, params={"cursor": public})
    assert legacy.status == 400 and legacy.body["details"] == {"cursor": "public"}
    enc = lambda s: base64.urlsafe_b64encode(s.encode()).decode()  # noqa: E731
    post_id, nanos = uuid.uuid4(), "1771848000123456000"
    for raw in (f"{nanos}|{post_id}|2|{nanos}|", f"{nanos}|{post_id}|0|{nanos}|abc", f"{nanos}|{post_id}|0|x|",
                f"{nanos}|{post_id}|0|{nanos}|zzzzzz", f"{nanos}|{post_id}|0|{nanos}|{'a' * 6 * (MAX_CIRCLE + 1)}",
                f"{nanos}|{post_id}|0|{nanos}", f"{nanos}|{post_id}|0|{nanos}||"):
        reply = await client.get("/social/feed", user=viewer, params={"cursor": enc(raw)})
        assert reply.status == 400, (raw, reply.body)
    # A well-formed cursor whose post is gone still pages on from its position.
    ok = await client.get("/social/feed", user=viewer, params={"cursor": enc(f"{nanos}|{post_id}|0|{nanos}|")})
    assert ok.status == 200
