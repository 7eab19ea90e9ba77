"""An opaque keyset cursor over a room's sequence numbers (history pages, newest first)."""

from __future__ import annotations

import base64
import binascii
import dataclasses


class BadCursor(ValueError):
    """The cursor was not made by `SeqCursor.to_string`."""


@dataclasses.dataclass(frozen=True, slots=True)
class SeqCursor:
    before: int  # the next page holds messages with seq < before

    _PREFIX = "seq:"

    def to_string(self) -> str:
        return base64.urlsafe_b64encode(f"{self._PREFIX}{self.before}".encode()).decode().rstrip("=")

    @classmethod
    def from_string(cls, raw: str) -> SeqCursor:
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadCursor("malformed cursor") from None
        if not text.startswith(cls._PREFIX) or not text[len(cls._PREFIX):].isdigit():
            raise BadCursor("malformed cursor")
        return cls(int(text[len(cls._PREFIX):]))
