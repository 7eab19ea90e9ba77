"""Tag autocomplete (GET /tags/suggest) and the one rule for what a tag is."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from aiohttp import web

from veza import keys
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.errors import BadRequest
from veza.http.routing import ApiRouter
from veza.store import tags as tag_store
from veza.validation import NOT_BLANK_SCHEMA

router = ApiRouter("tags")

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
            raise BadRequest(f"Invalid tag {tag[:60]!r}", details={field: f"tags are 1-{MAX_TAG_LENGTH} "
                                                                          "letters, digits, spaces, -, &, +, #"})
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"At most {MAX_TAGS} tags", details={field: f"at most {MAX_TAGS}"})
    return tags


class SuggestQuery(msgspec.Struct):
    q: Annotated[str, msgspec.Meta(min_length=1, max_length=50, description="Prefix or approximate tag",
                                   extra_json_schema=NOT_BLANK_SCHEMA)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=50, description="1..50, default 10")] = 10


class SuggestOut(msgspec.Struct):
    suggestions: list[str]


@router.get("/tags/suggest", query=SuggestQuery, response=SuggestOut, auth="required",
            summary="Tag autocomplete: prefix matches first, then similar tags")
async def suggest(request: web.Request, query: SuggestQuery, principal: Principal) -> web.Response:
    text = query.q.strip().lower()
    if not text:
        raise BadRequest("q must not be blank", details={"q": "blank"})
    async with request.app[keys.db].connection() as conn:
        return ok(SuggestOut(suggestions=await tag_store.suggest(conn, text, query.limit)))
