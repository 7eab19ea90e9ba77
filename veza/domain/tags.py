"""The one rule for what a tag is, for tracks and posts alike: lower-cased, trimmed, inner
spaces collapsed, 1-50 letters, digits, spaces and a few signs, at most 20 distinct."""

from __future__ import annotations

import re

from veza.domain.errors import Invalid

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
_TAG = re.compile(r"^[\w][\w\- .&+#']*$")


def normalize_tags(raw: list[str] | str | None, field: str = "tags") -> list[str]:
    """Lower-cased, trimmed, de-duplicated tags; a comma-separated string is accepted too."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    tags: list[str] = []
    for item in items:
        tag = " ".join(item.strip().lower().split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or not _TAG.match(tag):
            raise Invalid(f"Invalid tag {tag[:60]!r}", details={field: f"tags are 1-{MAX_TAG_LENGTH} "
                                                                     "letters, digits, spaces, -, &, +, #"})
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise Invalid(f"At most {MAX_TAGS} tags", details={field: f"at most {MAX_TAGS}"})
    return tags
