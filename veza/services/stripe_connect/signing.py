"""Stripe's webhook signature: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>" keyed with the endpoint's secret>`. Verification is the `stripe` library's
(`stripe.WebhookSignature.verify_header`, with its replay tolerance); this module makes the
header, for the sandbox Connect's own events."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Stripe-Signature"
TOLERANCE = 300  # seconds a signed event stays acceptable (Stripe's default)


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"
