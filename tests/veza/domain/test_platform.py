"""The platform control rules, table-driven: flag names and maintenance messages."""

from __future__ import annotations

import pytest

from tests.veza.domain.conftest import assert_outcome
from veza.domain import platform as rules
from veza.domain.errors import Invalid


@pytest.mark.parametrize(("name", "expected"), [
    ("uploads", None),
    ("a", None),
    ("live.webrtc_v2-beta", None),
    ("9lives", None),
    ("a" * 64, None),
    ("a" * 65, Invalid),
    ("", Invalid),
    ("Uploads", Invalid),
    ("_hidden", Invalid),
    ("uploads\n", Invalid),  # fullmatch: no trailing newline slips in
    ("up loads", Invalid),
    ("up/loads", Invalid),
])
def test_what_a_flag_name_is(name, expected) -> None:
    assert_outcome(expected, rules.check_flag_name, name)


@pytest.mark.parametrize(("message", "expected"), [(None, None), ("Back soon", None), (" ", Invalid),
                                                   ("\n\t", Invalid)])
def test_a_maintenance_message_is_none_or_not_blank(message, expected) -> None:
    assert_outcome(expected, rules.check_maintenance_message, message)
