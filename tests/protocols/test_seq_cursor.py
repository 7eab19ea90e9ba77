"""The history cursor round-trips and refuses anything it did not make."""

import pytest

from protocols.seq_cursor import BadCursor, SeqCursor


@pytest.mark.parametrize("before", [1, 42, 10**12])
def test_round_trip(before: int) -> None:
    text = SeqCursor(before).to_string()
    assert "=" not in text and str(before) not in text
    assert SeqCursor.from_string(text) == SeqCursor(before)


@pytest.mark.parametrize("raw", ["", "!!!", "c2VxOg", "c2VxOi0x", "aGVsbG8", "\u00e9"])
def test_rejects_foreign_cursors(raw: str) -> None:
    with pytest.raises(BadCursor):
        SeqCursor.from_string(raw)
