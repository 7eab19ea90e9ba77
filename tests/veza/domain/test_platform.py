"""The platform control rules, table-driven: flag names and maintenance messages."""

from __future__ import annotations

import pytest

from veza.domain import platform as rules
from veza.domain.errors import Invalid


@pytest.mark.parametrize(("name", "valid"), [
    ("uploads", True),
    ("a", True),
    ("live.webrtc_v2-beta", True),
    ("9lives", True),
    ("a" * 64, True),
    ("a" * 65, False),
    ("", False),
    ("Uploads", False),
    ("_hidden", False),
    ("uploads\n", False),  # fullmatch: no trailing newline slips in
    ("up loads", False),
    ("up/loads", False),
])
def test_what_a_flag_name_is(name, valid) -> None:
    if valid:
        rules.check_flag_name(name)
    else:
        with pytest.raises(Invalid):
            rules.check_flag_name(name)


@pytest.mark.parametrize(("message", "valid"), [(None, True), ("Back soon", True), (" ", False), ("\n\t", False)])
def test_a_maintenance_message_is_none_or_not_blank(message, valid) -> None:
    if valid:
        rules.check_maintenance_message(message)
    else:
        with pytest.raises(Invalid):
            rules.check_maintenance_message(message)
