"""The API key rules, table-driven: who manages keys, what scopes a key gets, the cap."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.veza.domain.conftest import assert_outcome, make_user
from veza.domain import api_keys as rules
from veza.domain.errors import Forbidden, Invalid, NotFound


@pytest.mark.parametrize(("via", "expected"), [("jwt", None), ("session", None), ("api_key", Forbidden)])
def test_keys_are_managed_with_the_users_own_token(via, expected) -> None:
    assert_outcome(expected, rules.check_manager, via)


@pytest.mark.parametrize(("name", "scopes", "role", "expected"), [
    ("ci", ["read"], "user", ["read"]),
    ("ci", ["write", "read", "write"], "user", ["read", "write"]),
    ("ci", ["read", "tracks", "chat"], "creator", ["chat", "read", "tracks"]),
    ("ops", ["admin"], "admin", ["admin"]),  # enough on its own
    ("ops", ["admin", "read"], "admin", ["admin", "read"]),
    ("ci", [], "user", Invalid),
    ("ci", ["read", "root"], "user", Invalid),
    ("ci", ["tracks"], "user", Invalid),  # an area grants nothing without a level
    (" \t", ["read"], "user", Invalid),
    ("ops", ["admin"], "creator", Forbidden),
    ("ops", ["read", "admin"], "user", Forbidden),
])
def test_the_scopes_a_key_is_given(name, scopes, role, expected) -> None:
    assert_outcome(expected, rules.granted_scopes, name, scopes, role)


def test_a_bad_scope_is_reported_before_a_blank_name() -> None:
    with pytest.raises(Invalid) as caught:
        rules.granted_scopes(" ", ["nope"], "user")
    assert "scopes" in caught.value.details


# ---- against PostgreSQL ------------------------------------------------------------------

async def _create(db, user, name="k", scopes=("read",), via="jwt"):
    async with db.transaction() as conn:
        return await rules.create(conn, user["id"], user["role"], via, name=name, scopes=list(scopes),
                                  prefix=uuid.uuid4().hex[:8], key_hash=uuid.uuid4().hex)


async def test_a_user_holds_at_most_the_cap_even_when_creating_at_once(db) -> None:
    async with db.connection() as conn:
        user = await make_user(conn)
    results = await asyncio.gather(*(_create(db, user, name=f"k{i}") for i in range(rules.MAX_KEYS_PER_USER + 3)),
                                   return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 3 and all(isinstance(r, Invalid) for r in refused)
    async with db.connection() as conn:
        assert len(await rules.list_keys(conn, user["id"], "jwt")) == rules.MAX_KEYS_PER_USER


async def test_keys_are_the_owners_only(db) -> None:
    async with db.connection() as conn:
        owner, other = await make_user(conn), await make_user(conn)
    key = await _create(db, owner, name="  named ")
    assert (key["name"], list(key["scopes"])) == ("named", ["read"])
    async with db.connection() as conn:
        assert await rules.list_keys(conn, other["id"], "jwt") == []
        with pytest.raises(NotFound):
            await rules.delete(conn, other["id"], "jwt", key["id"])
        with pytest.raises(Forbidden):
            await rules.list_keys(conn, owner["id"], "api_key")
        with pytest.raises(Forbidden):
            await rules.delete(conn, owner["id"], "api_key", key["id"])
        await rules.delete(conn, owner["id"], "jwt", key["id"])
        assert await rules.list_keys(conn, owner["id"], "jwt") == []
    with pytest.raises(Forbidden):
        await _create(db, owner, via="api_key")
