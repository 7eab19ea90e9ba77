"""The role rule, table-driven: only an admin changes a role, never their own; the change
is announced after commit, and not at all when the transaction rolls back."""

from __future__ import annotations

import uuid

import pytest

from tests.veza.domain.conftest import assert_outcome, make_user
from veza.domain import roles as rules
from veza.domain.errors import Forbidden
from veza.domain.unit_of_work import unit_of_work

ME, THEM = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("actor_role", "target", "expected"), [
    ("admin", THEM, None),
    ("admin", ME, Forbidden),  # the last admin cannot demote themself by mistake
    ("creator", THEM, Forbidden),
    ("user", THEM, Forbidden),
])
def test_only_an_admin_changes_a_role_and_never_their_own(actor_role, target, expected) -> None:
    assert_outcome(expected, rules.check_may_change_role, ME, actor_role, target)


async def test_the_change_is_announced_after_commit_only(db) -> None:
    heard: list[tuple[uuid.UUID, str]] = []

    async def announce(user_id: uuid.UUID, role: str) -> None:
        heard.append((user_id, role))

    async with db.connection() as conn:
        admin, user = await make_user(conn, "admin"), await make_user(conn)
    with pytest.raises(RuntimeError):
        async with unit_of_work(db) as uow:
            await rules.change_role(uow, announce, actor_id=admin["id"], actor_role="admin", target=user["id"],
                                    role="creator")
            raise RuntimeError("rolled back")
    assert heard == []
    async with unit_of_work(db) as uow:
        changed = await rules.change_role(uow, announce, actor_id=admin["id"], actor_role="admin",
                                          target=user["id"], role="creator")
        assert changed["role"] == "creator" and heard == []
    assert heard == [(user["id"], "creator")]
