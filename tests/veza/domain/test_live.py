"""The live stream rules, table-driven: the key is the owner's, metadata the owner's or an admin's."""

from __future__ import annotations

import uuid

import pytest

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
