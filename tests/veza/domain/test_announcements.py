"""The announcement rules, table-driven: required text and a sane window."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.veza.domain.conftest import make_user
from veza.domain import announcements as rules
from veza.domain.errors import Invalid

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
PARIS = dt.timezone(dt.timedelta(hours=1))


@pytest.mark.parametrize(("title", "content", "starts_at", "ends_at", "expected"), [
    ("t", "c", None, None, {}),
    ("t", "c", NOW + HOUR, NOW + 2 * HOUR, {}),
    ("t", "c", None, NOW + HOUR, {}),  # starts now, ends later
    ("t", "c", dt.datetime(2026, 6, 1, 13, tzinfo=PARIS), dt.datetime(2026, 6, 1, 12, 30, tzinfo=dt.UTC), {}),
    (" ", "\n", None, None, {"title": "must not be blank", "content": "must not be blank"}),
    ("t", "c", dt.datetime(2026, 6, 1), None, {"starts_at": "must include a timezone (e.g. 2026-03-01T12:00:00Z)"}),
    ("t", "c", None, dt.datetime(1969, 12, 31, tzinfo=dt.UTC),
     {"ends_at": "must be between 1970-01-01T00:00:00Z and 9998-12-31T23:59:59Z"}),
    ("t", "c", dt.datetime(1, 1, 1, tzinfo=PARIS), None,  # would overflow once converted
     {"starts_at": "must be between 1970-01-01T00:00:00Z and 9998-12-31T23:59:59Z"}),
    ("t", "c", NOW + HOUR, NOW + HOUR, {"ends_at": "must be after starts_at"}),
    ("t", "c", None, NOW - HOUR, {"ends_at": "must be after starts_at"}),
    ("", "c", None, NOW - HOUR, {"title": "must not be blank"}),  # the window is judged once the rest holds
])
def test_what_a_valid_announcement_is(title, content, starts_at, ends_at, expected) -> None:
    assert rules.problems(title, content, starts_at, ends_at, NOW) == expected


async def test_create_stores_trimmed_text_or_reports_every_problem(db) -> None:
    async with db.connection() as conn:
        admin = await make_user(conn, "admin")
        row = await rules.create(conn, admin["id"], title=" Hello ", content=" World ", type_="info",
                                 starts_at=None, ends_at=None)
        assert (row["title"], row["content"], row["active"]) == ("Hello", "World", True)
        with pytest.raises(Invalid) as caught:
            await rules.create(conn, admin["id"], title=" ", content=" ", type_="info", starts_at=None, ends_at=None)
    assert caught.value.message == "Invalid title: must not be blank"
    assert set(caught.value.details) == {"title", "content"}
