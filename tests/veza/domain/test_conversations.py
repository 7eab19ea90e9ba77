"""The conversation rules, table-driven: who sees, renames, deletes, adds and removes."""

from __future__ import annotations

import uuid

import pytest

from veza.domain import conversations as rules
from veza.domain.errors import Conflict, Forbidden, Invalid

ME, OWNER, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def access(type_: str = "group", role: str | None = "member", *, admin: bool = False,
           owner: uuid.UUID = OWNER) -> rules.Access:
    return rules.Access(conversation_id=uuid.uuid4(), type=type_, name="n", owner_id=owner, role=role,
                        last_read_seq=0, platform_admin=admin, user_id=ME)


@pytest.mark.parametrize(("role", "admin", "moderator"), [
    ("owner", False, True),
    ("admin", False, True),
    ("member", False, False),
    (None, False, False),
    (None, True, True),
    ("member", True, True),
])
def test_moderators_are_owner_admins_and_platform_admins(role, admin, moderator) -> None:
    assert rules.is_moderator(role, admin) is moderator
    assert access(role=role, admin=admin).moderator is moderator


@pytest.mark.parametrize(("type_", "role", "admin", "seen"), [
    ("public", None, False, True),
    ("group", None, False, False),
    ("direct", None, False, False),
    ("group", "member", False, True),
    ("direct", "member", False, True),
    ("group", None, True, True),
    ("direct", None, True, True),
])
def test_only_public_conversations_are_seen_by_non_members(type_, role, admin, seen) -> None:
    assert rules.may_see(type_, role, admin) is seen


@pytest.mark.parametrize(("peer", "members", "expected"), [
    (OTHER, [], OTHER),
    (None, [OTHER], OTHER),
    (OTHER, [ME, OTHER], OTHER),  # user_id wins over members
    (None, [], Invalid),
    (None, [OTHER, uuid.uuid4()], Invalid),
    (ME, [], Invalid),
    (None, [ME], Invalid),
])
def test_a_direct_conversation_names_exactly_one_other_user(peer, members, expected) -> None:
    if expected is Invalid:
        with pytest.raises(Invalid):
            rules.direct_peer(ME, peer, members)
    else:
        assert rules.direct_peer(ME, peer, members) == expected


@pytest.mark.parametrize(("name", "expected"), [("  Band  ", "Band"), ("x", "x"), ("", Invalid), ("   ", Invalid)])
def test_a_group_needs_a_name(name, expected) -> None:
    if expected is Invalid:
        with pytest.raises(Invalid):
            rules.group_name(name)
    else:
        assert rules.group_name(name) == expected


def _outcome(check, *args) -> type | None:  # type: ignore[no-untyped-def]
    try:
        check(*args)
    except (Invalid, Forbidden, Conflict) as exc:
        return type(exc)
    return None


@pytest.mark.parametrize(("who", "refused"), [
    (access("group", "owner"), None),
    (access("group", "admin"), None),
    (access("public", "admin"), None),
    (access("group", "member"), Forbidden),
    (access("public", None), Forbidden),
    (access("group", None, admin=True), None),
    (access("direct", "member"), Invalid),
    (access("direct", "member", admin=True), Invalid),
])
def test_rename(who, refused) -> None:
    assert _outcome(rules.check_rename, who) is refused


@pytest.mark.parametrize(("who", "refused"), [
    (access("group", "owner"), None),
    (access("direct", "owner"), None),
    (access("group", "admin"), Forbidden),
    (access("group", "member"), Forbidden),
    (access("group", None, admin=True), None),
])
def test_only_the_owner_or_a_platform_admin_deletes(who, refused) -> None:
    assert _outcome(rules.check_delete, who) is refused


@pytest.mark.parametrize(("who", "target", "role", "refused"), [
    (access("public", None), ME, "member", None),  # joining a public conversation oneself
    (access("public", None), ME, "admin", Forbidden),
    (access("group", None), ME, "member", Forbidden),  # a group is joined by invitation
    (access("public", "member"), OTHER, "member", Forbidden),
    (access("group", "admin"), OTHER, "member", None),
    (access("group", "admin"), OTHER, "admin", Forbidden),  # only the owner makes admins
    (access("group", "owner"), OTHER, "admin", None),
    (access("group", None, admin=True), OTHER, "admin", None),
    (access("direct", "member"), OTHER, "member", Invalid),
    (access("direct", "member", admin=True), OTHER, "member", Invalid),
])
def test_add_member(who, target, role, refused) -> None:
    assert _outcome(rules.check_add_member, who, target, role) is refused


@pytest.mark.parametrize(("who", "target", "refused"), [
    (access("group", "member"), ME, None),  # leaving
    (access("group", "member"), OTHER, Forbidden),
    (access("group", "admin"), OTHER, None),
    (access("group", None, admin=True), OTHER, None),
    (access("group", "admin"), OWNER, Conflict),  # the owner never leaves nor is removed
    (access("group", "owner", owner=ME), ME, Conflict),
    (access("group", None, admin=True), OWNER, Conflict),
    (access("direct", "member"), ME, Invalid),
])
def test_remove_member(who, target, refused) -> None:
    assert _outcome(rules.check_remove_member, who, target) is refused
