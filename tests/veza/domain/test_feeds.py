"""Which feeds a socket may follow, table-driven."""

from __future__ import annotations

import pytest

from tests.veza.domain.conftest import assert_outcome
from veza.domain import feeds as rules
from veza.domain.errors import NotFound, Unauthorized


@pytest.mark.parametrize(("feed", "signed_in", "expected"), [
    ("global", False, None),
    ("global", True, None),
    ("members", True, None),
    ("members", False, Unauthorized),
    ("nope", True, NotFound),
    ("nope", False, NotFound),
    ("GLOBAL", False, NotFound),  # names are exact
])
def test_public_feeds_for_anyone_the_others_for_signed_in_users(monkeypatch, feed, signed_in, expected) -> None:
    monkeypatch.setitem(rules.FEEDS, "members", False)  # a feed for signed-in users only
    assert_outcome(expected, rules.check_followable, feed, signed_in)
