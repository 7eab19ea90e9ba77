"""The social rules, table-driven: required text, posts, likes, comments, follows, and what
each tells after commit (notifications, the feed)."""

from __future__ import annotations

import uuid

import pytest

from tests.veza.domain.conftest import assert_outcome, make_track, make_user
from veza.domain import social as rules
from veza.domain import track_engagement
from veza.domain.errors import Invalid, NotFound
from veza.domain.text import required
from veza.domain.unit_of_work import unit_of_work

ME, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("value", "expected"), [
    ("hi", "hi"),
    ("  hi  there \n", "hi  there"),
    ("", Invalid),
    (" \t\n ", Invalid),
])
def test_required_text_is_trimmed_and_never_blank(value, expected) -> None:
    error = assert_outcome(expected, required, value, "content")
    assert error is None or (error.message, error.details) == ("content must not be blank", {"content": "blank"})


@pytest.mark.parametrize(("follower", "followee", "expected"), [(ME, ME, Invalid), (ME, OTHER, None)])
def test_nobody_follows_themself(follower, followee, expected) -> None:
    assert_outcome(expected, rules.check_follow, follower, followee)


# ---- against PostgreSQL ------------------------------------------------------------------

class _Heard:
    def __init__(self) -> None:
        self.pushed: list[dict] = []
        self.engaged: list[tuple] = []

    def on_engaged(self, post_id, kind, delta) -> None:
        self.engaged.append((post_id, kind, delta))

    @property
    def effects(self) -> dict:
        return {"push": self.pushed.append, "on_engaged": self.on_engaged}


@pytest.mark.parametrize(("content", "tags", "expected"), [
    ("  hello ", [" Rock ", "rock"], ("hello", ["rock"])),
    ("hello", None, ("hello", [])),
    ("   ", [], Invalid),
    ("hello", ["no/slash"], Invalid),
])
async def test_a_post_has_text_and_normalized_tags(db, content, tags, expected) -> None:
    async with db.transaction() as conn:
        author = await make_user(conn)
        if expected is Invalid:
            with pytest.raises(Invalid):
                await rules.create_post(conn, author["id"], content, tags, None)
            return
        post = await rules.create_post(conn, author["id"], content, tags, None)
    assert (post["content"], post["tags"]) == expected


async def test_a_post_names_an_existing_track(db) -> None:
    async with db.transaction() as conn:
        author = await make_user(conn)
        track = await make_track(conn, author["id"])
        assert (await rules.create_post(conn, author["id"], "listen", [], track["id"]))["track_id"] == track["id"]
        with pytest.raises(NotFound):
            await rules.create_post(conn, author["id"], "listen", [], uuid.uuid4())


async def test_likes_toggle_notify_the_author_once_and_tell_the_feed_after_commit(db) -> None:
    async with db.transaction() as conn:
        author, fan = await make_user(conn), await make_user(conn)
        post = await rules.create_post(conn, author["id"], "p", [], None)
    heard = _Heard()
    for expected in ((True, 1), (False, 0)):
        told = len(heard.engaged)
        async with unit_of_work(db) as uow:
            assert await rules.toggle_like(uow, fan["id"], post["id"], **heard.effects) == expected
            assert len(heard.engaged) == told  # the feed hears nothing before commit
        assert heard.engaged[told:] == [(post["id"], "like", 1 if expected[0] else -1)]
    assert [(n["user_id"], n["kind"]) for n in heard.pushed] == [(author["id"], "post_like")]
    async with unit_of_work(db) as uow:  # one's own like: counted, never notified
        assert await rules.toggle_like(uow, author["id"], post["id"], **heard.effects) == (True, 1)
    assert len(heard.pushed) == 1


async def test_a_comment_needs_text_and_notifies_the_author_with_an_excerpt(db) -> None:
    async with db.transaction() as conn:
        author, fan = await make_user(conn), await make_user(conn)
        post = await rules.create_post(conn, author["id"], "p", [], None)
    heard = _Heard()
    async with unit_of_work(db) as uow:
        with pytest.raises(Invalid):
            await rules.comment(uow, fan["id"], post["id"], "  ", **heard.effects)
    async with unit_of_work(db) as uow:
        row = await rules.comment(uow, fan["id"], post["id"], "  " + "x" * 200, **heard.effects)
    assert row["content"] == "x" * 200
    [note] = heard.pushed
    assert (note["kind"], note["data"]["excerpt"]) == ("post_comment", "x" * rules.EXCERPT)
    assert heard.engaged == [(post["id"], "comment", 1)]
    async with unit_of_work(db) as uow:
        with pytest.raises(NotFound):
            await rules.comment(uow, fan["id"], uuid.uuid4(), "hi", **heard.effects)


async def test_follows_are_idempotent_notify_once_and_count(db) -> None:
    async with db.transaction() as conn:
        star, fan = await make_user(conn), await make_user(conn)
    pushed: list[dict] = []
    for _ in range(2):
        async with unit_of_work(db) as uow:
            assert await rules.follow(uow, fan["id"], star["id"], push=pushed.append) == 1
    assert [(n["user_id"], n["kind"], n["subject_id"]) for n in pushed] == [(star["id"], "follow", fan["id"])]
    async with db.transaction() as conn:
        assert await rules.unfollow(conn, fan["id"], star["id"]) == 0
        assert await rules.unfollow(conn, fan["id"], star["id"]) == 0
        with pytest.raises(NotFound):
            await rules.unfollow(conn, fan["id"], uuid.uuid4())
    async with unit_of_work(db) as uow:
        with pytest.raises(Invalid):
            await rules.follow(uow, fan["id"], fan["id"], push=pushed.append)
        with pytest.raises(NotFound):
            await rules.follow(uow, fan["id"], uuid.uuid4(), push=pushed.append)


async def test_track_likes_and_comments_notify_the_owner(db) -> None:
    async with db.transaction() as conn:
        owner, fan = await make_user(conn, "creator"), await make_user(conn)
        track = await make_track(conn, owner["id"], title="Song")
    pushed: list[dict] = []
    for _ in range(2):  # idempotent: only the new like notifies
        async with unit_of_work(db) as uow:
            assert await track_engagement.like(uow, fan["id"], track["id"], push=pushed.append) == 1
    async with unit_of_work(db) as uow:
        with pytest.raises(Invalid):
            await track_engagement.comment(uow, fan["id"], track["id"], "\n", push=pushed.append)
    async with unit_of_work(db) as uow:
        row = await track_engagement.comment(uow, fan["id"], track["id"], " nice ", push=pushed.append)
    assert row["content"] == "nice"
    assert [(n["kind"], n["data"]["track_title"]) for n in pushed] == [("track_like", "Song"), ("track_comment", "Song")]
    assert pushed[1]["data"]["excerpt"] == "nice"
    async with unit_of_work(db) as uow:
        with pytest.raises(NotFound):
            await track_engagement.like(uow, fan["id"], uuid.uuid4(), push=pushed.append)
