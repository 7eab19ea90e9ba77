"""Cursors round-trip, and anything garbled or forged raises InvalidCursor."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest

from protocols.cursor import FeedCursor, InvalidCursor, KeysetCursor

WHEN = dt.datetime(2026, 2, 23, 12, 0, 0, 123456, tzinfo=dt.UTC)
ID = uuid.UUID("7c9e6679-7425-40de-944b-e07fc1f90ae7")


def b64(raw: str | bytes) -> str:
    return base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode()


@pytest.mark.parametrize("cursor", [
    KeysetCursor(WHEN, ID),
    KeysetCursor(WHEN, ID, "title", "Ab/c+ \u00e9"),
    KeysetCursor(WHEN, ID, "like_count", 12),
    KeysetCursor(WHEN, ID, "duration", 61.5),
])
def test_keyset_round_trip(cursor: KeysetCursor) -> None:
    text = cursor.to_string()
    assert "=" not in text and "+" not in text and "/" not in text
    assert KeysetCursor.from_string(text) == cursor


def test_keyset_default_is_created_at_json() -> None:
    decoded = json.loads(base64.urlsafe_b64decode(KeysetCursor(WHEN, ID).to_string() + "=="))
    assert decoded == {"created_at": "2026-02-23T12:00:00.123456Z", "id": str(ID)}


@pytest.mark.parametrize("raw", [
    "", "%%%", "a" * 600, b64("not json"), b64("[1,2]"), b64('{"created_at": "2026-01-01T00:00:00Z"}'),
    b64(json.dumps({"created_at": "soon", "id": str(ID)})),
    b64(json.dumps({"created_at": "2026-01-01T00:00:00", "id": str(ID)})),
    b64(json.dumps({"created_at": 5, "id": str(ID)})),
    b64(json.dumps({"created_at": "2026-01-01T00:00:00Z", "id": "1; DROP TABLE tracks"})),
    b64(json.dumps({"created_at": "2026-01-01T00:00:00Z", "id": str(ID), "sql": "x"})),
    b64(json.dumps({"created_at": "2026-01-01T00:00:00Z", "id": str(ID), "sort_by": "title"})),
    b64(json.dumps({"created_at": "2026-01-01T00:00:00Z", "id": str(ID), "sort_by": "title", "value": [1]})),
    b64(json.dumps({"created_at": "2026-01-01T00:00:00Z", "id": str(ID), "sort_by": "title", "value": True})),
    b64(b"\xff\xfe\x00"),
])
def test_keyset_garbage_raises(raw: str) -> None:
    with pytest.raises(InvalidCursor):
        KeysetCursor.from_string(raw)


def test_feed_cursor_is_unix_nano_pipe_uuid() -> None:
    cursor = FeedCursor(WHEN, ID)
    text = cursor.to_string()
    assert base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode() == f"1771848000123456000|{ID}"
    assert FeedCursor.from_string(text) == cursor
    # Standard base64 with padding (as other clients produce it) reads the same.
    assert FeedCursor.from_string(b64(f"1771848000123456000|{ID}")) == cursor


@pytest.mark.parametrize("raw", [
    "", "!!", b64("123"), b64(f"|{ID}"), b64(f"-1|{ID}"), b64(f"1.5|{ID}"), b64("123|nope"),
    b64(f"{'9' * 21}|{ID}"), b64(f"99999999999999999999|{ID}"), b64(b"\xff|\xfe"),
])
def test_feed_garbage_raises(raw: str) -> None:
    with pytest.raises(InvalidCursor):
        FeedCursor.from_string(raw)
