"""Global Privacy Control (CCPA): `Sec-GPC: 1` means do-not-sell for this request.

The platform controls put the flag in the request (`keys.do_not_sell`) for handlers; the
edge's response hook confirms with `GPC: 1` on every response, errors and streams
included (`echo`).
"""

from __future__ import annotations

from aiohttp import web
from multidict import CIMultiDict, istr

GPC = istr("GPC")


def gpc_requested(request: web.Request) -> bool:
    return request.headers.get("Sec-GPC") == "1"


def echo(request: web.Request, headers: CIMultiDict[str]) -> None:
    if request.headers.get("Sec-GPC") == "1":
        headers[GPC] = "1"
