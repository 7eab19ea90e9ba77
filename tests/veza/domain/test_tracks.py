"""The track rules, table-driven: metadata of an upload and of an edit, tags, and who may
change or delete a track."""

from __future__ import annotations

import uuid

import pytest

from tests.veza.domain.conftest import assert_outcome, make_track, make_user
from veza.domain import tracks as rules
from veza.domain.errors import Forbidden, Invalid, NotFound
from veza.domain.tags import MAX_TAGS, normalize_tags

ME, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("value", "expected"), [
    (None, None),
    ("", None),
    ("  ", None),
    (" Jazz ", "jazz"),
    ("a" * 50, "a" * 50),
    ("A" * 51, Invalid),
    ("İ" * 25, "i̇" * 25),  # 50 characters once lower-cased
    ("İ" * 26, Invalid),  # 26 characters given, 52 stored
])
def test_genres_are_stored_lower_cased_and_limited_in_that_form(value, expected) -> None:
    error = assert_outcome(expected, rules.genre, value)
    assert error is None or error.details == {"genre": "too long"}


@pytest.mark.parametrize(("fields", "default_title", "expected"), [
    ({"title": " Song "}, "stem", {"title": "Song", "artist": None, "description": "", "genre": None, "tags": []}),
    ({}, "stem", {"title": "stem", "artist": None, "description": "", "genre": None, "tags": []}),
    ({"title": "  "}, "stem", {"title": "stem", "artist": None, "description": "", "genre": None, "tags": []}),
    ({"title": "t", "artist": " Me ", "description": " d ", "genre": "Rock", "tags": "A, b,a"}, None,
     {"title": "t", "artist": "Me", "description": "d", "genre": "rock", "tags": ["a", "b"]}),
    ({}, None, Invalid),  # no title and no file name to take it from
    ({"title": " "}, None, Invalid),
    ({"title": "x" * 201}, None, Invalid),
    ({"title": "t", "artist": "x" * 201}, None, Invalid),
    ({"title": "t", "description": "x" * 5001}, None, Invalid),
    ({"title": "t", "tags": "ok, no/slash"}, None, Invalid),
])
def test_an_uploads_metadata(fields, default_title, expected) -> None:
    assert_outcome(expected, rules.new_metadata, fields, default_title)


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, {}),
    ({"title": " New "}, {"title": "New"}),
    ({"artist": " A ", "genre": "POP", "tags": [" X ", "x"]}, {"artist": "A", "genre": "pop", "tags": ["x"]}),
    ({"description": "  kept as given  "}, {"description": "  kept as given  "}),
    ({"genre": " "}, {"genre": None}),
    ({"tags": []}, {"tags": []}),
    ({"title": "  "}, Invalid),
    ({"artist": ""}, Invalid),
    ({"tags": [f"t{i}" for i in range(MAX_TAGS + 1)]}, Invalid),
])
def test_an_edits_changes(changes, expected) -> None:
    assert_outcome(expected, rules.metadata_changes, changes)


@pytest.mark.parametrize(("raw", "expected"), [
    (None, []),
    ("", []),
    ("Rock,  Hip   Hop ,rock", ["rock", "hip hop"]),
    (["a", " ", "B"], ["a", "b"]),
    (["drum & bass", "c#", "r'n'b"], ["drum & bass", "c#", "r'n'b"]),
    (["-dash-first"], Invalid),
    (["a" * 51], Invalid),
    ([f"t{i}" for i in range(MAX_TAGS)] + ["t0"], [f"t{i}" for i in range(MAX_TAGS)]),  # duplicates do not count
    ([f"t{i}" for i in range(MAX_TAGS + 1)], Invalid),
])
def test_what_a_tag_is(raw, expected) -> None:
    assert_outcome(expected, normalize_tags, raw)


@pytest.mark.parametrize(("owner", "user", "role", "expected"), [
    (ME, ME, "user", None),
    (ME, ME, "creator", None),
    (OTHER, ME, "admin", None),
    (OTHER, ME, "creator", Forbidden),
    (OTHER, ME, "user", Forbidden),
])
def test_the_owner_or_an_admin_changes_a_track(owner, user, role, expected) -> None:
    assert_outcome(expected, rules.check_changer, owner, user, role)


# ---- against PostgreSQL ------------------------------------------------------------------

async def test_an_upload_without_an_artist_is_credited_to_its_uploader(db) -> None:
    async with db.transaction() as conn:
        owner = await make_user(conn, "creator")
        media = {"format": "mp3", "mime_type": "audio/mpeg", "duration": 2.5, "file_key": "tracks/k.mp3",
                 "size_bytes": 10}
        track = await rules.create(conn, owner["id"], rules.new_metadata({"title": "T"}, None), media)
        named = await rules.create(conn, owner["id"], rules.new_metadata({"title": "T", "artist": "Band"}, None),
                                   {**media, "file_key": "tracks/k2.mp3"})
    assert (track["artist"], track["owner_id"]) == (owner["username"], owner["id"])
    assert named["artist"] == "Band"


@pytest.mark.parametrize(("who", "allowed"), [("owner", True), ("admin", True), ("stranger", False)])
async def test_who_edits_and_deletes_a_track(db, who, allowed) -> None:
    async with db.transaction() as conn:
        owner, admin, stranger = await make_user(conn, "creator"), await make_user(conn, "admin"), await make_user(conn)
        key = f"tracks/{uuid.uuid4().hex}.mp3"
        track = await make_track(conn, owner["id"], file_key=key)
    actor = {"owner": owner, "admin": admin, "stranger": stranger}[who]
    async with db.transaction() as conn:
        if not allowed:
            with pytest.raises(Forbidden):
                await rules.update(conn, actor["id"], actor["role"], track["id"], {"title": "New"})
            with pytest.raises(Forbidden):
                await rules.delete(conn, actor["id"], actor["role"], track["id"])
            return
        assert (await rules.update(conn, actor["id"], actor["role"], track["id"], {"title": " New "}))["title"] == "New"
        assert await rules.delete(conn, actor["id"], actor["role"], track["id"]) == key
    async with db.transaction() as conn:
        with pytest.raises(NotFound):
            await rules.delete(conn, actor["id"], actor["role"], track["id"])


async def test_a_blank_edit_is_refused_before_the_track_is_looked_up(db) -> None:
    async with db.transaction() as conn:
        with pytest.raises(Invalid):  # not NotFound: the body is wrong whatever the id
            await rules.update(conn, ME, "user", uuid.uuid4(), {"title": " "})
