"""The sandbox provider: payments held in this process, paid or declined by a person on
`/static/checkout.html`, announced by a signed webhook POSTed to our own
`/api/v1/webhooks/hyperswitch` exactly as Hyperswitch would, so the production path runs.

Development only (refused when APP_ENV=production). Payments live in this process, so on a
cluster the checkout page must reach the node that created the payment.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import secrets

import aiohttp

from veza.domain.errors import Conflict, Forbidden, NotFound
from veza.services.payments import PaymentIntent, RefundStarted
from veza.services.payments.events import event_body
from veza.services.payments.signing import sign

log = logging.getLogger("veza.payments.sandbox")

WEBHOOK_PATH = "/api/v1/webhooks/hyperswitch"
MAX_PAYMENTS = 100_000  # oldest forgotten first: a development server must not grow forever
DELIVERY_ATTEMPTS = 5


@dataclasses.dataclass(slots=True)
class SandboxPayment:
    payment_id: str
    client_secret: str
    order_id: str
    amount_cents: int
    currency: str
    status: str = "requires_payment_method"
    webhook_url: str | None = None  # learnt from the confirming request's origin


class SandboxProvider:
    name = "sandbox"

    def __init__(self, webhook_secret: str) -> None:
        self._secret = webhook_secret
        self._payments: collections.OrderedDict[str, SandboxPayment] = collections.OrderedDict()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._deliveries: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
        await self._session.close()

    async def create_payment(self, *, order_id: str, amount_cents: int, currency: str, description: str,
                             return_url: str) -> PaymentIntent:
        payment_id = f"pay_sbx_{secrets.token_hex(12)}"
        payment = SandboxPayment(payment_id, f"{payment_id}_secret_{secrets.token_urlsafe(18)}", order_id,
                                 amount_cents, currency)
        self._payments[payment_id] = payment
        while len(self._payments) > MAX_PAYMENTS:
            self._payments.popitem(last=False)
        return PaymentIntent(payment_id, payment.client_secret, payment.status)

    def payment(self, payment_id: str, client_secret: str) -> SandboxPayment:
        payment = self._payments.get(payment_id)
        if payment is None:
            raise NotFound("No such sandbox payment (the server may have restarted)")
        if not secrets.compare_digest(payment.client_secret.encode(), client_secret.encode()):
            raise Forbidden("Wrong client secret for this payment")
        return payment

    async def confirm(self, payment_id: str, client_secret: str, *, succeed: bool, origin: str) -> SandboxPayment:
        """The buyer's decision on the checkout page; the webhook's first delivery is awaited so
        the page sees the order change when this returns, later retries run in the background."""
        payment = self.payment(payment_id, client_secret)
        if payment.status != "requires_payment_method":
            raise Conflict(f"This payment is already {payment.status}")
        payment.status = "succeeded" if succeed else "failed"
        payment.webhook_url = origin.rstrip("/") + WEBHOOK_PATH
        body = event_body("payment_succeeded" if succeed else "payment_failed", {
            "payment_id": payment.payment_id, "status": payment.status, "amount": payment.amount_cents,
            "currency": payment.currency, "metadata": {"order_id": payment.order_id}})
        if not await self._deliver_once(payment.webhook_url, body):
            self._deliver_later(payment.webhook_url, body)
        return payment

    async def cancel_payment(self, *, payment_id: str, reason: str) -> None:
        payment = self._payments.get(payment_id)
        if payment is not None and payment.status == "requires_payment_method":
            payment.status = "cancelled"

    async def create_refund(self, *, payment_id: str, refund_id: str, amount_cents: int, reason: str) -> RefundStarted:
        payment = self._payments.get(payment_id)
        if payment is None or payment.status != "succeeded" or payment.webhook_url is None:
            raise Conflict("The sandbox has no captured payment to refund (the server may have restarted)")
        payment.status = "refunded"
        self._deliver_later(payment.webhook_url, event_body("refund_succeeded", {
            "payment_id": payment_id, "refund_id": refund_id, "status": "succeeded", "amount": amount_cents,
            "currency": payment.currency, "metadata": {"order_id": payment.order_id}}))
        return RefundStarted(refund_id, "pending")

    def _deliver_later(self, url: str, body: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(url, body))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, url: str, body: bytes) -> None:
        # Like Hyperswitch: retried with growing pauses until a 2xx.
        for attempt in range(DELIVERY_ATTEMPTS):
            await asyncio.sleep(0.05 * 4 ** attempt)
            if await self._deliver_once(url, body):
                return
        log.warning("sandbox webhook to %s given up after %d attempts", url, DELIVERY_ATTEMPTS)

    async def _deliver_once(self, url: str, body: bytes) -> bool:
        headers = {"Content-Type": "application/json", "X-Webhook-Signature-512": sign(self._secret, body)}
        try:
            async with self._session.post(url, data=body, headers=headers) as resp:
                return 200 <= resp.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.info("sandbox webhook to %s failed: %r", url, exc)
            return False
