"""The sandbox Connect's onboarding (development only): the page an onboarding link opens
(`/static/connect-sandbox.html`) enables the account through this route, with the link's
signature as its proof. Refused when real Stripe is configured."""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web

from veza import keys
from veza.api.sell import ConnectStatusOut
from veza.domain.errors import NotFound
from veza.domain.sellers import upstream
from veza.http.envelope import ok
from veza.http.routing import ApiRouter
from veza.services.stripe_connect import ConnectError
from veza.services.stripe_connect.sandbox import SandboxConnect, account_path

router = ApiRouter("sell")


class EnableIn(msgspec.Struct, forbid_unknown_fields=True):
    expires: Annotated[str, msgspec.Meta(max_length=20)]
    signature: Annotated[str, msgspec.Meta(max_length=128)]


@router.post("/sandbox/connect/accounts/{account_id}/enable", body=EnableIn, response=ConnectStatusOut,
             summary="Sandbox Connect only: finish onboarding (the onboarding link's signature is the proof)")
async def enable(request: web.Request, body: EnableIn) -> web.Response:
    connect = request.app[keys.payouts].connect
    if not isinstance(connect, SandboxConnect):
        raise NotFound("The sandbox Connect is not enabled (STRIPE_SECRET_KEY is set)")
    account_id = request.match_info["account_id"][:100]
    if not connect.links.valid(account_path(account_id), body.expires, body.signature):
        raise NotFound("This onboarding link is invalid or has expired; ask for a new one")
    try:
        account = await connect.enable(account_id, origin=str(request.url.origin()))
    except ConnectError as exc:
        raise upstream(exc) from None
    return ok({"connected": True, "provider": connect.name, "account_id": account.id,
               "charges_enabled": account.charges_enabled, "payouts_enabled": account.payouts_enabled,
               "details_submitted": account.details_submitted})
