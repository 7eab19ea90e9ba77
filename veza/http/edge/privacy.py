"""Global Privacy Control (CCPA): `Sec-GPC: 1` means do-not-sell for this request.

The platform controls mark such a request (`keys.do_not_sell`, read with
`do_not_sell(request)`); the edge confirms with `GPC: 1` on every response to it, errors
and streams included.
"""

from __future__ import annotations

from aiohttp import web
from multidict import istr

from veza import keys

GPC = istr("GPC")
SEC_GPC = istr("Sec-GPC")


def mark(request: web.Request) -> None:
    """Mark a request that sent `Sec-GPC: 1` (the edge checks the header: most requests
    do not send it and pay one lookup)."""
    request[keys.do_not_sell] = True


def do_not_sell(request: web.Request) -> bool:
    """The request asked not to be sold (its Sec-GPC header, as the controls saw it)."""
    return request.get(keys.do_not_sell, False)
