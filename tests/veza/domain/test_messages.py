"""The chat message rules, table-driven: who edits and who deletes a message."""

from __future__ import annotations

import uuid

import pytest

from veza.domain import messages as rules
from veza.domain.errors import Forbidden

AUTHOR, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("author", "user", "allowed"), [
    (AUTHOR, AUTHOR, True),
    (AUTHOR, OTHER, False),
    (None, OTHER, False),  # the author's account is gone
])
def test_only_the_author_edits(author, user, allowed) -> None:
    if allowed:
        rules.check_edit(author, user)
    else:
        with pytest.raises(Forbidden):
            rules.check_edit(author, user)


@pytest.mark.parametrize(("author", "user", "role", "admin", "allowed"), [
    (AUTHOR, AUTHOR, "member", False, True),
    (AUTHOR, AUTHOR, None, False, True),  # an author who left may still delete
    (AUTHOR, OTHER, "member", False, False),
    (AUTHOR, OTHER, None, False, False),
    (AUTHOR, OTHER, "admin", False, True),
    (AUTHOR, OTHER, "owner", False, True),
    (AUTHOR, OTHER, None, True, True),
    (None, OTHER, "owner", False, True),
    (None, OTHER, "member", False, False),
])
def test_the_author_moderators_and_platform_admins_delete(author, user, role, admin, allowed) -> None:
    if allowed:
        rules.check_delete(author, user, role, admin)
    else:
        with pytest.raises(Forbidden):
            rules.check_delete(author, user, role, admin)
