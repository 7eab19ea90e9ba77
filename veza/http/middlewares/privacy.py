"""Global Privacy Control (CCPA): `Sec-GPC: 1` means do-not-sell for this request.

The middleware puts the flag in the request (`keys.do_not_sell`) for handlers; the
response hook confirms with `GPC: 1` on every response, errors and streams included.
"""

from __future__ import annotations

from aiohttp import web

from veza import keys


def gpc_requested(request: web.Request) -> bool:
    return request.headers.get("Sec-GPC", "").strip() == "1"


@web.middleware
async def privacy_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    request[keys.do_not_sell] = gpc_requested(request)
    return await handler(request)


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    if gpc_requested(request):
        response.headers["GPC"] = "1"
