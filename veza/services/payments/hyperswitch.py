"""The Hyperswitch REST client: `POST /payments` and `POST /refunds`, `api-key` header.

A provider that cannot be reached (connection refused, timeout) is a 503; one that answers
an error or nonsense is a 502. Either way the caller undoes what it reserved.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from urllib.parse import quote

import aiohttp

from veza.domain.errors import BadGateway, Unavailable
from veza.services.payments import PaymentIntent, RefundStarted

log = logging.getLogger("veza.payments")


class HyperswitchProvider:
    name = "hyperswitch"

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0)),
            headers={"api-key": api_key, "Accept": "application/json"})

    async def close(self) -> None:
        await self._session.close()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            async with self._session.post(self.base_url + path, json=body) as resp:
                try:
                    data = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    data = None
                if resp.status >= 400 or not isinstance(data, dict):
                    log.warning("hyperswitch %s answered %s: %.300s", path, resp.status, data)
                    raise BadGateway("The payment provider refused the request",
                                     details={"provider_status": resp.status})
                return data
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
            log.warning("hyperswitch %s unreachable: %r", path, exc)
            raise Unavailable("The payment provider is unreachable; try again shortly") from None

    async def create_payment(self, *, order_id: str, amount_cents: int, currency: str, description: str,
                             return_url: str) -> PaymentIntent:
        data = await self._post("/payments", {
            "amount": amount_cents, "currency": currency, "confirm": False, "capture_method": "automatic",
            "metadata": {"order_id": order_id}, "return_url": return_url, "description": description[:255]})
        payment_id = data.get("payment_id")
        if not isinstance(payment_id, str) or not payment_id:
            raise BadGateway("The payment provider answered without a payment id")
        return PaymentIntent(payment_id, data.get("client_secret"), str(data.get("status", "requires_payment_method")))

    async def cancel_payment(self, *, payment_id: str, reason: str) -> None:
        await self._post(f"/payments/{quote(payment_id, safe='')}/cancel", {"cancellation_reason": reason[:255]})

    async def create_refund(self, *, payment_id: str, refund_id: str, amount_cents: int, reason: str) -> RefundStarted:
        data = await self._post("/refunds", {"payment_id": payment_id, "amount": amount_cents,
                                             "reason": reason[:255], "refund_id": refund_id})
        return RefundStarted(str(data.get("refund_id") or refund_id), str(data.get("status", "pending")))
