"""Sending a stored file as a download: Range, RFC 6266 Content-Disposition, nosniff.

One helper for cloud files, their versions, shared links, gear documents and marketplace
purchases, on top of the ranged `stream_object` the tracks use. The browser is told to save the file, never to
render it, and a sandboxing CSP covers a client that renders it anyway.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from aiohttp import web

from veza import keys
from veza.http.errors import NotFound
from veza.services.storage import StoredObjectMissing
from veza.services.streaming import stream_object

_NOT_TOKEN = re.compile(r'[^A-Za-z0-9 !#$&+.^_`|~()\[\]{}@,;=-]')  # quoted-string safe, no quote or backslash


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII `filename` fallback and the exact name as RFC 8187 `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = _NOT_TOKEN.sub("_", ascii_name).strip() or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def send_stored(request: web.Request, key: str, name: str, mime_type: str, *,
                      cache: str = "private, no-cache") -> web.StreamResponse:
    headers = {
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": cache,
    }
    try:
        return await stream_object(request, request.app[keys.storage], key, mime_type, headers=headers)
    except StoredObjectMissing:
        raise NotFound("The file's stored content is missing") from None
