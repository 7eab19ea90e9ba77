"""Webhook signatures as Hyperswitch makes them: the hex HMAC-SHA512 of the raw body, keyed
with the profile's `payment_response_hash_key`, sent in `X-Webhook-Signature-512`.
`X-Hyperswitch-Signature` (the API reference's example) carries the same value."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADERS = ("X-Webhook-Signature-512", "X-Hyperswitch-Signature")


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """True when one of the signature headers holds the body's signature (constant time)."""
    expected = sign(secret, body)
    for name in SIGNATURE_HEADERS:
        given = headers.get(name)
        if given is not None and hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
            return True
    return False
