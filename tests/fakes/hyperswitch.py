"""A local fake of Hyperswitch's HTTP API, for tests: `POST /payments`, `POST /refunds` behind
the `api-key` header, and the webhooks Hyperswitch would send, signed with the profile's
hash key, which a test delivers, replays, reorders or tampers with."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import aiohttp
from aiohttp import web

from veza.services.payments.events import event_body
from veza.services.payments.signing import sign

API_KEY = "snd_test_key"


@dataclasses.dataclass
class FakeHyperswitch:
    webhook_secret: str
    webhook_url: str = ""  # our /api/v1/webhooks/hyperswitch, set once the app runs
    payments: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list)
    fail_next: int | None = None  # answer the next call with this status
    base_url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/payments", self._create_payment)
        app.router.add_post("/refunds", self._create_refund)
        app.router.add_post("/payments/{payment_id}/cancel", self._cancel_payment)
        return app

    def _check(self, request: web.Request) -> web.Response | None:
        if request.headers.get("api-key") != API_KEY:
            return web.json_response({"error": {"type": "invalid_request", "message": "API key not provided or invalid"}},
                                     status=401)
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return web.json_response({"error": {"message": "internal"}}, status=status)
        return None

    async def _create_payment(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("payments", body))
        if (refused := self._check(request)) is not None:
            return refused
        payment_id = f"pay_{secrets.token_hex(10)}"
        self.payments[payment_id] = {**body, "payment_id": payment_id}
        return web.json_response({"payment_id": payment_id, "client_secret": f"{payment_id}_secret_x",
                                  "status": "requires_payment_method", "amount": body["amount"],
                                  "currency": body["currency"]})

    async def _cancel_payment(self, request: web.Request) -> web.Response:
        payment_id = request.match_info["payment_id"]
        self.requests.append(("cancel", {"payment_id": payment_id, **await request.json()}))
        if (refused := self._check(request)) is not None:
            return refused
        if payment_id not in self.payments:
            return web.json_response({"error": {"message": "Payment not found"}}, status=404)
        self.payments[payment_id]["status"] = "cancelled"
        return web.json_response({"payment_id": payment_id, "status": "cancelled"})

    async def _create_refund(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("refunds", body))
        if (refused := self._check(request)) is not None:
            return refused
        self.refunds[body["refund_id"]] = body
        return web.json_response({"refund_id": body["refund_id"], "payment_id": body["payment_id"],
                                  "status": "pending", "amount": body["amount"]})

    def event(self, event_type: str, payment_id: str, *, amount: int | None = None, currency: str | None = None,
              refund_id: str | None = None, event_id: str | None = None) -> bytes:
        payment = self.payments[payment_id]
        obj = {"payment_id": payment_id, "status": event_type.split("_", 1)[1],
               "amount": payment["amount"] if amount is None else amount,
               "currency": currency or payment["currency"], "metadata": payment["metadata"]}
        if refund_id is not None:
            obj["refund_id"] = refund_id
        return event_body(event_type, obj, merchant_id="merchant_test", event_id=event_id)

    async def deliver(self, body: bytes, *, signature: str | None = None, header: str = "X-Webhook-Signature-512",
                      ) -> tuple[int, Any]:
        sig = sign(self.webhook_secret, body) if signature is None else signature
        async with aiohttp.ClientSession() as http:
            async with http.post(self.webhook_url, data=body,
                                 headers={"Content-Type": "application/json", header: sig}) as resp:
                return resp.status, await resp.json(content_type=None)
