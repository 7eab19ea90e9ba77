"""The session rules, table-driven: who signs in, whose session a logout ends."""

from __future__ import annotations

import uuid

import pytest

from tests.veza.domain.conftest import assert_outcome, make_user
from veza.domain import sessions as rules
from veza.domain.errors import Forbidden, NotFound
from veza.store import sessions as store


@pytest.mark.parametrize(("is_banned", "expected"), [(False, None), (True, Forbidden)])
def test_a_suspended_account_does_not_sign_in(is_banned, expected) -> None:
    error = assert_outcome(expected, rules.check_may_sign_in, is_banned)
    assert error is None or error.message == rules.SUSPENDED


async def _session(conn, user_id) -> uuid.UUID:
    session_id = uuid.uuid4()
    await store.create_session(conn, session_id=session_id, user_id=user_id, refresh_hash=uuid.uuid4().hex,
                               user_agent="t", ip_address="127.0.0.1", ttl_seconds=60)
    return session_id


@pytest.mark.parametrize(("whose", "revoked"), [("mine", True), ("theirs", False), ("unknown", False),
                                                 ("none", False)])
async def test_a_logout_ends_only_the_callers_own_session(db, whose, revoked) -> None:
    async with db.connection() as conn:
        me, them = await make_user(conn), await make_user(conn)
        mine, theirs = await _session(conn, me["id"]), await _session(conn, them["id"])
        target = {"mine": mine, "theirs": theirs, "unknown": uuid.uuid4(), "none": None}[whose]
        if revoked:
            assert await rules.log_out(conn, me["id"], target) == target
            with pytest.raises(NotFound):  # once
                await rules.log_out(conn, me["id"], target)
        else:
            with pytest.raises(NotFound):
                await rules.log_out(conn, me["id"], target)
        assert [s["id"] for s in await store.list_active(conn, them["id"])] == [theirs]
        assert [s["id"] for s in await store.list_active(conn, me["id"])] == ([] if revoked else [mine])
