"""Webhook bodies as Hyperswitch sends them, built in one place for the sandbox (and the
tests' fake of Hyperswitch): `{merchant_id, event_id, event_type, content: {type, object},
timestamp}`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec


def event_body(event_type: str, obj: dict[str, Any], *, merchant_id: str = "sandbox",
               event_id: str | None = None) -> bytes:
    content_type = "refund_details" if event_type.startswith("refund") else "payment_details"
    return msgspec.json.encode({
        "merchant_id": merchant_id,
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "event_type": event_type,
        "content": {"type": content_type, "object": obj},
        "timestamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
    })
