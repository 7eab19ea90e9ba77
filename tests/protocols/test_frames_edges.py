"""Edge inputs the fuzz test of the real gateway found: they must be invalid frames, not crashes.

Deep nesting made msgspec raise RecursionError (not DecodeError), and sequence numbers past
bigint reached PostgreSQL as DataError: both came back as "internal" error frames.
"""

import pytest

from protocols import frames

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_FIELD = '{"type":"join","ref":"r1","room":' + DEEP_ARRAY + "}"


@pytest.mark.parametrize("raw", [DEEP_ARRAY, '{"type":' * 3000 + "1" + "}" * 3000, DEEP_FIELD])
def test_deep_nesting_is_an_invalid_frame(raw: str) -> None:
    with pytest.raises(frames.InvalidFrame):
        frames.decode_frame(raw)


def test_deep_nesting_inside_a_known_frame_keeps_its_ref() -> None:
    with pytest.raises(frames.InvalidFrame) as info:
        frames.decode_body(DEEP_FIELD, frames.JoinFrame, ref="r1")
    assert info.value.ref == "r1"


@pytest.mark.parametrize("raw", [
    '{"type":"read","room":"0b5e4c9e-7c1f-4a53-9d7e-3f1f6f8f3c11","seq":1000000000000000000000000000000}',
    '{"type":"join","room":"0b5e4c9e-7c1f-4a53-9d7e-3f1f6f8f3c11","since":9223372036854775808}',
    '{"type":"history","room":"0b5e4c9e-7c1f-4a53-9d7e-3f1f6f8f3c11","before":18446744073709551623}',
])
def test_sequence_numbers_past_bigint_are_invalid(raw: str) -> None:
    # They reached PostgreSQL as DataError ("internal") before: the fuzz test found it.
    with pytest.raises(frames.InvalidFrame):
        frames.decode_frame(raw)
