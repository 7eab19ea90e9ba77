"""What a stored file is, from its bytes: never from the name or the type a client claims.

`detect` names a file's type from its first bytes (`filetype`'s signatures for binary
formats; UTF-8 text without control characters is text/plain; anything else
application/octet-stream). Markup (HTML, SVG, XML) is only ever text here: nothing we
store is served as a page.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import filetype

HEAD_BYTES = 8192
TEXT = "text/plain"
BINARY = "application/octet-stream"
# C0 controls other than tab, line feed, form feed and carriage return (and DEL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta|link|style|math|xsl)\b",
                     re.IGNORECASE)


def read_head(path: Path) -> tuple[bytes, bool]:
    """The first HEAD_BYTES of a file and whether that is all of it (blocking: run in a thread)."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES + 1)
    return head[:HEAD_BYTES], len(head) <= HEAD_BYTES


def is_text(head: bytes, complete: bool) -> bool:
    """UTF-8 (a character cut at the end of an incomplete head is fine) with no control characters."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return not _CONTROL.search(text.removeprefix("\ufeff"))


def looks_like_markup(head: bytes) -> bool:
    """HTML, SVG or XML a browser would render or run."""
    return _MARKUP.search(head) is not None


def detect(head: bytes, complete: bool) -> str:
    kind = filetype.guess(head) if head else None
    if kind is not None:
        return kind.mime
    if is_text(head, complete):
        return TEXT
    return BINARY
