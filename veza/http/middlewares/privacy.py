"""Global Privacy Control (CCPA): `Sec-GPC: 1` means do-not-sell for this request.

`mark` puts the flag in the request (`keys.do_not_sell`) for handlers (called by the
platform-controls middleware); the response hook confirms with `GPC: 1` on every
response, errors and streams included.
"""

from __future__ import annotations

from aiohttp import web

from veza import keys


def gpc_requested(request: web.Request) -> bool:
    return request.headers.get("Sec-GPC") == "1"


def mark(request: web.Request) -> None:
    request[keys.do_not_sell] = gpc_requested(request)


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    if request.headers.get("Sec-GPC") == "1":
        response.headers["GPC"] = "1"
