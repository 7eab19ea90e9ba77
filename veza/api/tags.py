"""Tag autocomplete (GET /tags/suggest); what a tag is: `veza.domain.tags`."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from veza import keys
from veza.domain.text import required
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter
from veza.store import tags as tag_store
from veza.validation import NOT_BLANK_SCHEMA

router = ApiRouter("tags")


class SuggestQuery(msgspec.Struct):
    q: Annotated[str, msgspec.Meta(min_length=1, max_length=50, description="Prefix or approximate tag",
                                   extra_json_schema=NOT_BLANK_SCHEMA)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=50, description="1..50, default 10")] = 10


class SuggestOut(msgspec.Struct):
    suggestions: list[str]


@router.get("/tags/suggest", query=SuggestQuery, response=SuggestOut, auth="required",
            summary="Tag autocomplete: prefix matches first, then similar tags")
async def suggest(request: web.Request, query: SuggestQuery, principal: Principal) -> web.Response:
    text = required(query.q, "q").lower()
    async with request.app[keys.db].connection() as conn:
        return ok(SuggestOut(suggestions=await tag_store.suggest(conn, text, query.limit)))
