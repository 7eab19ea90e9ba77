"""The live stream rules, table-driven: the key is the owner's, metadata the owner's or an admin's."""

from __future__ import annotations

import uuid

import pytest

from tests.veza.domain.conftest import make_user
from veza.domain import live as rules
from veza.domain.errors import Forbidden

OWNER, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("user", "allowed"), [(OWNER, True), (OTHER, False)])
def test_only_the_owner_has_the_key(user, allowed) -> None:
    if allowed:
        rules.check_owner(OWNER, user)
    else:
        with pytest.raises(Forbidden):
            rules.check_owner(OWNER, user)


@pytest.mark.parametrize(("user", "admin", "allowed"), [
    (OWNER, False, True),
    (OWNER, True, True),
    (OTHER, False, False),
    (OTHER, True, True),
])
def test_the_owner_or_a_platform_admin_edits_metadata(user, admin, allowed) -> None:
    if allowed:
        rules.check_editor(OWNER, user, admin)
    else:
        with pytest.raises(Forbidden):
            rules.check_editor(OWNER, user, admin)


async def test_a_stream_key_designates_its_stream_and_nothing_else_does(db) -> None:
    async with db.transaction() as conn:
        owner = await make_user(conn, "creator")
        stream = await rules.create_stream(conn, owner["id"], title="Show")
        key = stream["stream_key"]
        found = await rules.stream_of_key(conn, key)
        assert (found["id"], found["owner_id"]) == (stream["id"], owner["id"])
        for other in ("", key + "x", key[:-1], key.replace(key[-1], "\x00"), key + "\n", str(stream["id"]),
                      key[:-1] + ("A" if key[-1] != "A" else "B")):  # the right shape, but nobody's
            assert await rules.stream_of_key(conn, other) is None
