"""The moderation rules, table-driven: what may be reported, on whom a ban or warning
falls, and what a ban revokes."""

from __future__ import annotations

import uuid

import pytest

from tests.veza.domain.conftest import assert_outcome, make_track, make_user
from veza.domain import moderation as rules
from veza.domain.errors import Conflict, Forbidden, Invalid, NotFound
from veza.domain.unit_of_work import unit_of_work
from veza.session_events import SessionEvents
from veza.store import sessions

ME, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("reason", "expected"), [
    ("spam", "spam"),
    ("  spam \n", "spam"),
    ("", Invalid),
    (" \t\n", Invalid),
])
def test_a_reason_is_trimmed_and_never_blank(reason, expected) -> None:
    error = assert_outcome(expected, rules.clean_reason, reason)
    assert error is None or error.details == {"reason": "must not be blank"}


@pytest.mark.parametrize(("content_type", "content_id", "expected"), [
    ("user", ME, Invalid),
    ("user", OTHER, None),
    ("track", ME, None),  # a track's id is no user's
    ("comment", ME, None),
])
def test_nobody_reports_themself(content_type, content_id, expected) -> None:
    assert_outcome(expected, rules.check_reportable, ME, content_type, content_id)


@pytest.mark.parametrize(("action", "target", "role", "expected"), [
    ("ban", OTHER, "user", None),
    ("ban", OTHER, "creator", None),
    ("warn", OTHER, "admin", None),  # admins may be warned
    ("ban", OTHER, "admin", Forbidden),
    ("ban", None, None, Invalid),  # the content is gone and nobody was named
    ("warn", None, None, Invalid),
    ("ban", OTHER, None, Invalid),  # no such user
    ("warn", OTHER, None, Invalid),
])
def test_the_target_of_a_ban_or_warning(action, target, role, expected) -> None:
    assert_outcome(expected, rules.check_target, action, "track", target, role)


@pytest.mark.parametrize(("message", "expected"), [
    (None, "A moderator reviewed a report about your track: loud"),
    ("", "A moderator reviewed a report about your track: loud"),
    ("Keep it down", "Keep it down"),
    ("x" * 1500, "x" * 1000),
])
def test_the_warning_message(message, expected) -> None:
    assert rules.warning_message(message, "track", "loud") == expected


def test_a_default_warning_quoting_a_long_reason_is_cut_to_the_limit() -> None:
    assert len(rules.warning_message(None, "comment", "r" * 1000)) == rules.MAX_TEXT


# ---- against PostgreSQL ------------------------------------------------------------------

async def _report_of_track(db, *, owner_role: str = "user"):
    async with db.transaction() as conn:
        owner, reporter, admin = await make_user(conn, owner_role), await make_user(conn), await make_user(conn, "admin")
        track = await make_track(conn, owner["id"])
        report = await rules.report(conn, reporter["id"], "track", track["id"], "  loud ")
    return owner, reporter, admin, track, report


async def test_a_report_names_existing_content(db) -> None:
    owner, reporter, _, track, report = await _report_of_track(db)
    assert (report["content_type"], report["content_id"], report["reason"], report["status"]) == (
        "track", track["id"], "loud", "pending")
    async with db.connection() as conn:
        for content_type in ("user", "track", "comment"):
            with pytest.raises(Invalid) as caught:
                await rules.report(conn, reporter["id"], content_type, uuid.uuid4(), "why")
            assert caught.value.details == {"content_id": f"unknown {content_type}"}
        with pytest.raises(Conflict):  # already reported and pending
            await rules.report(conn, reporter["id"], "track", track["id"], "again")
        user_report = await rules.report(conn, reporter["id"], "user", owner["id"], "rude")
        assert user_report["content_id"] == owner["id"]


class _Heard:
    def __init__(self) -> None:
        self.events = SessionEvents()
        self.revoked: list[tuple] = []
        self.pushed: list[dict] = []

        async def listener(user_id, session_ids, keep) -> None:
            self.revoked.append((user_id, session_ids))
        self.events.subscribe(listener)


async def _resolve(db, heard: _Heard, admin, report, decision):
    async with unit_of_work(db) as uow:
        decided = await rules.resolve(uow, admin["id"], report["id"], decision, push=heard.pushed.append,
                                      session_events=heard.events)
        assert heard.revoked == [] and heard.pushed == []  # nothing is announced before commit
    return decided


async def test_a_ban_falls_on_the_owner_revokes_sessions_and_is_announced_after_commit(db) -> None:
    owner, _, admin, _, report = await _report_of_track(db)
    async with db.transaction() as conn:
        await sessions.create_session(conn, session_id=uuid.uuid4(), user_id=owner["id"], refresh_hash="h",
                                      user_agent="t", ip_address="127.0.0.1", ttl_seconds=60)
    heard = _Heard()
    decided = await _resolve(db, heard, admin, report, rules.Decision("ban"))
    assert (decided["status"], decided["action"], decided["target_user_id"], decided["resolved_by"]) == (
        "resolved", "ban", owner["id"], admin["id"])
    assert heard.revoked == [(owner["id"], None)]
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT is_banned FROM users WHERE id = $1", owner["id"]) is True
        assert await sessions.list_active(conn, owner["id"]) == []
    async with unit_of_work(db) as uow:  # decided once
        with pytest.raises(Conflict):
            await rules.resolve(uow, admin["id"], report["id"], rules.Decision("dismiss"), push=heard.pushed.append,
                                session_events=heard.events)


async def test_a_warning_is_stored_and_pushed_after_commit(db) -> None:
    owner, _, admin, _, report = await _report_of_track(db)
    heard = _Heard()
    decided = await _resolve(db, heard, admin, report, rules.Decision("warn"))
    assert decided["target_user_id"] == owner["id"]
    [note] = heard.pushed
    assert (note["user_id"], note["kind"]) == (owner["id"], "moderation_warning")
    assert note["data"]["message"] == "A moderator reviewed a report about your track: loud"
    assert heard.revoked == []


async def test_the_admin_names_the_target_once_the_content_is_gone(db) -> None:
    owner, _, admin, track, report = await _report_of_track(db)
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM tracks WHERE id = $1", track["id"])
    heard = _Heard()
    with pytest.raises(Invalid) as caught:
        await _resolve(db, heard, admin, report, rules.Decision("warn"))
    assert "user_id" in caught.value.details
    with pytest.raises(Invalid):  # an unknown account
        await _resolve(db, heard, admin, report, rules.Decision("warn", named_user=uuid.uuid4()))
    decided = await _resolve(db, heard, admin, report, rules.Decision("warn", named_user=owner["id"], message="Hi"))
    assert decided["target_user_id"] == owner["id"]
    assert heard.pushed[0]["data"]["message"] == "Hi"


@pytest.mark.parametrize(("action", "status", "target"), [
    ("resolve", "resolved", False),
    ("dismiss", "dismissed", False),
    ("warn", "resolved", True),
])
async def test_an_admin_owner_is_warned_never_banned(db, action, status, target) -> None:
    owner, _, admin, _, report = await _report_of_track(db, owner_role="admin")
    heard = _Heard()
    with pytest.raises(Forbidden):
        await _resolve(db, heard, admin, report, rules.Decision("ban"))
    decided = await _resolve(db, heard, admin, report, rules.Decision(action))
    assert decided["status"] == status
    assert decided["target_user_id"] == (owner["id"] if target else None)
    assert heard.revoked == []


async def test_an_unknown_report_is_not_found(db) -> None:
    async with db.connection() as conn:
        admin = await make_user(conn, "admin")
    with pytest.raises(NotFound):
        await _resolve(db, _Heard(), admin, {"id": uuid.uuid4()}, rules.Decision("resolve"))
