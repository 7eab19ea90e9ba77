"""A real PostgreSQL for the rules that read or write it, and rows to act on."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from veza.db import Database
from veza.store import tracks, users


@pytest.fixture
async def db(test_database):
    database = await Database.connect(test_database.dsn, min_size=1, max_size=2)
    yield database
    await database.close()


async def make_user(conn: Any, role: str = "user") -> dict[str, Any]:
    name = f"u{uuid.uuid4().hex[:12]}"
    return await users.create_user(conn, username=name, email=f"{name}@example.com", password_hash=None, role=role)


async def make_track(conn: Any, owner_id: uuid.UUID, **fields: Any) -> dict[str, Any]:
    return await tracks.create_track(conn, owner_id=owner_id, fields={
        "title": "t", "artist": "a", "description": "", "genre": None, "tags": [], "format": "mp3",
        "mime_type": "audio/mpeg", "duration": 1.0, "file_key": f"tracks/{uuid.uuid4().hex}.mp3", "size_bytes": 1,
        **fields})


def assert_outcome(expected: Any, rule: Any, *args: Any) -> BaseException | None:
    """One row of a rule's table: `expected` is the value `rule(*args)` returns, or the
    error class it raises (then the error, for a closer look at its details)."""
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected) as caught:
            rule(*args)
        return caught.value
    assert rule(*args) == expected
    return None
