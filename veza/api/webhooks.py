"""Payment provider webhooks, and the sandbox provider's confirm route.

`POST /webhooks/hyperswitch`: the signature is checked on the raw body before anything is
parsed; a missing or wrong one is a 401 and nothing changes. Every verified event answers
200, replays and events about payments we do not know included (Hyperswitch retries every
non-2xx for about a day, and retrying those would change nothing).
"""

from __future__ import annotations

import logging

from aiohttp import web

from veza import keys
from veza.api.marketplace_schemas import SandboxConfirmIn, SandboxConfirmOut, WebhookAck
from veza.domain import marketplace as rules
from veza.domain.errors import NotFound, Unauthorized
from veza.http.envelope import ok
from veza.http.raw_body import read_raw_body
from veza.http.routing import ApiRouter
from veza.services.payments.sandbox import SandboxProvider
from veza.services.payments.signing import verify

log = logging.getLogger("veza.webhooks")
router = ApiRouter("webhooks")
MAX_WEBHOOK_BYTES = 256 * 1024


@router.post("/webhooks/hyperswitch", response=WebhookAck, content_type="application/json",
             errors=((401, "Missing or invalid webhook signature"),),
             summary="Hyperswitch payment and refund events (HMAC-SHA512 signature required)")
async def hyperswitch_webhook(request: web.Request) -> web.Response:
    app = request.app
    market = app[keys.marketplace]
    body = await read_raw_body(request, MAX_WEBHOOK_BYTES, "Webhook bodies")
    if not verify(market.webhook_secret, body, request.headers):
        log.warning("webhook with a missing or wrong signature from %s", request.remote)
        raise Unauthorized("Missing or invalid webhook signature")
    event = rules.parse_event(body)
    # The sandbox speaks Hyperswitch's webhook; its payments are stored under its own name.
    outcome = await rules.apply_event(app[keys.db], market.provider.name, event, rules.stored_payload(body),
                                      fee_rate=app[keys.settings].platform_fee_rate, announce=market.announce)
    return ok({"received": True, "outcome": outcome})


@router.post("/sandbox/payments/{payment_id}/confirm", body=SandboxConfirmIn, response=SandboxConfirmOut, errors=(409,),
             summary="Sandbox payments only: pay or decline, as the checkout page does")
async def sandbox_confirm(request: web.Request, body: SandboxConfirmIn) -> web.Response:
    provider = request.app[keys.marketplace].provider
    if not isinstance(provider, SandboxProvider):
        raise NotFound("The sandbox provider is not enabled (PAYMENTS_PROVIDER=sandbox)")
    payment = await provider.confirm(request.match_info["payment_id"][:100], body.client_secret,
                                     succeed=body.outcome == "succeed", origin=str(request.url.origin()))
    return ok({"payment_id": payment.payment_id, "status": payment.status})
