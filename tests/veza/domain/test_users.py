"""The profile rules, table-driven: username and avatar URL, every problem at once."""

from __future__ import annotations

import pytest

from tests.veza.domain.conftest import assert_outcome, make_user
from veza.domain import users as rules
from veza.domain.errors import Conflict, Invalid


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, {}),
    ({"bio": "hi"}, {"bio": "hi"}),
    ({"username": "new.name_1"}, {"username": "new.name_1"}),
    ({"avatar_url": "https://cdn.example.com/a.png"}, {"avatar_url": "https://cdn.example.com/a.png"}),
    ({"avatar_url": ""}, {"avatar_url": None}),  # empty clears it
])
def test_profile_changes(changes, expected) -> None:
    assert_outcome(expected, rules.profile_changes, changes)


@pytest.mark.parametrize(("changes", "fields"), [
    ({"username": "no"}, {"username"}),
    ({"username": "has space"}, {"username"}),
    ({"avatar_url": "javascript:alert(1)"}, {"avatar_url"}),
    ({"avatar_url": "ftp://x.example"}, {"avatar_url"}),
    ({"username": "x", "avatar_url": "nope"}, {"username", "avatar_url"}),  # both reported
])
def test_every_broken_profile_rule_is_reported(changes, fields) -> None:
    error = assert_outcome(Invalid, rules.profile_changes, changes)
    assert set(error.details) == fields
    assert error.message.startswith(f"Invalid {next(iter(changes))}:")


async def test_a_profile_update_is_stored_and_a_taken_username_conflicts(db) -> None:
    async with db.connection() as conn:
        me, other = await make_user(conn), await make_user(conn)
        row = await rules.update_profile(conn, me["id"], {"bio": "b", "avatar_url": ""})
        assert (row["bio"], row["avatar_url"]) == ("b", None)
        with pytest.raises(Conflict):
            await rules.update_profile(conn, me["id"], {"username": other["username"]})
