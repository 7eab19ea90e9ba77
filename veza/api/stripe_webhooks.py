"""`POST /webhooks/stripe`: Stripe's events (the sandbox Connect's too).

The `Stripe-Signature` header is checked on the raw body with `STRIPE_WEBHOOK_SECRET` by
the `stripe` library (a timestamp older than 5 minutes fails too) before anything is
parsed: one that does not verify is a 400 and changes nothing. Every verified event
answers 200, replays and event types we do not use included (Stripe retries non-2xx).
"""

from __future__ import annotations

import logging

import stripe
from aiohttp import web

from veza import keys
from veza.api.marketplace_schemas import WebhookAck
from veza.domain import sellers
from veza.domain.marketplace import stored_payload
from veza.api.webhooks import MAX_WEBHOOK_BYTES
from veza.domain.errors import Invalid
from veza.http.envelope import ok
from veza.http.raw_body import read_raw_body
from veza.http.routing import ApiRouter
from veza.services.stripe_connect.signing import HEADER, TOLERANCE

log = logging.getLogger("veza.webhooks")
router = ApiRouter("webhooks")


@router.post("/webhooks/stripe", response=WebhookAck, content_type="application/json",
             summary="Stripe events: account.updated keeps sellers' accounts in sync (Stripe-Signature required)")
async def stripe_webhook(request: web.Request) -> web.Response:
    app = request.app
    state = app[keys.payouts]
    body = await read_raw_body(request, MAX_WEBHOOK_BYTES, "Webhook bodies")
    payload = body.decode("utf-8", "replace")
    try:
        stripe.WebhookSignature.verify_header(payload, request.headers.get(HEADER, ""), state.webhook_secret,
                                              TOLERANCE)
    except stripe.SignatureVerificationError as exc:
        log.warning("Stripe webhook that does not verify from %s: %s", request.remote, exc)
        raise Invalid("Missing or invalid Stripe-Signature", details={HEADER: "does not verify"}) from None
    event = sellers.parse_event(body)
    outcome = await sellers.apply_event(app[keys.db], event, stored_payload(body), lambda: state.wake("account enabled"))
    return ok({"received": True, "outcome": outcome})
