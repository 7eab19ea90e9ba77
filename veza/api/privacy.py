"""CCPA: the persisted Do Not Sell preference (the per-request Sec-GPC signal is read at the edge: `veza.http.edge.privacy`)."""

from __future__ import annotations

import datetime as dt

import msgspec
from aiohttp import web

from veza import keys
from veza.http.auth import Principal
from veza.http.edge.privacy import do_not_sell
from veza.http.envelope import ok
from veza.http.routing import ApiRouter
from veza.store import privacy

router = ApiRouter("users")


class OptOutIn(msgspec.Struct, forbid_unknown_fields=True):
    do_not_sell: bool = True


class PrivacyOut(msgspec.Struct):
    do_not_sell: bool
    updated_at: dt.datetime | None
    gpc: bool  # this request carried Sec-GPC: 1


def _out(request: web.Request, row: dict) -> PrivacyOut:
    return PrivacyOut(do_not_sell=row["do_not_sell"], updated_at=row["do_not_sell_updated_at"],
                      gpc=do_not_sell(request))


@router.post("/users/me/privacy/opt-out", body=OptOutIn, response=PrivacyOut, auth="required",
             summary="Set the Do Not Sell preference (CCPA)")
async def opt_out(request: web.Request, body: OptOutIn, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(_out(request, await privacy.set_do_not_sell(conn, principal.user_id, body.do_not_sell)))


@router.get("/users/me/privacy", response=PrivacyOut, auth="required", summary="The current privacy preferences")
async def get_privacy(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        return ok(_out(request, await privacy.get_preferences(conn, principal.user_id)))
