"""The sandbox provider: payments held in this process, paid or declined by a person on
`/static/checkout.html`, announced by a signed webhook POSTed to our own
`/api/v1/webhooks/hyperswitch` exactly as Hyperswitch would, so the production path runs.

Development only (refused when APP_ENV=production). Payments are rows in PostgreSQL
(`veza.store.sandbox_payments`), so on a cluster any node serves the checkout page, and a
restart forgets none; webhook redeliveries run on the node that took the decision.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from typing import Any

import aiohttp

from veza.domain.errors import Conflict, Forbidden, NotFound
from veza.services.payments import PaymentIntent, RefundStarted
from veza.services.payments.events import event_body
from veza.services.payments.signing import sign
from veza.store import sandbox_payments as store

log = logging.getLogger("veza.payments.sandbox")

WEBHOOK_PATH = "/api/v1/webhooks/hyperswitch"
DELIVERY_ATTEMPTS = 5


@dataclasses.dataclass(frozen=True, slots=True)
class SandboxPayment:
    payment_id: str
    client_secret: str
    order_id: str
    amount_cents: int
    currency: str
    status: str
    webhook_url: str | None  # learnt from the confirming request's origin


class SandboxProvider:
    name = "sandbox"

    def __init__(self, db: Any, webhook_secret: str) -> None:
        self._db = db
        self._secret = webhook_secret
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
        client_secret = f"{payment_id}_secret_{secrets.token_urlsafe(18)}"
        async with self._db.connection() as conn:
            await store.create(conn, payment_id=payment_id, client_secret=client_secret, order_id=order_id,
                               amount_cents=amount_cents, currency=currency)
        return PaymentIntent(payment_id, client_secret, "requires_payment_method")

    async def payment(self, payment_id: str, client_secret: str) -> SandboxPayment:
        async with self._db.connection() as conn:
            row = await store.get(conn, payment_id)
        if row is None:
            raise NotFound("No such sandbox payment")
        if not secrets.compare_digest(row["client_secret"].encode(), client_secret.encode()):
            raise Forbidden("Wrong client secret for this payment")
        return SandboxPayment(**row)

    async def confirm(self, payment_id: str, client_secret: str, *, succeed: bool, origin: str) -> SandboxPayment:
        """The buyer's decision on the checkout page; the webhook's first delivery is awaited so
        the page sees the order change when this returns, later retries run in the background."""
        await self.payment(payment_id, client_secret)
        status = "succeeded" if succeed else "failed"
        async with self._db.connection() as conn:
            row = await store.move(conn, payment_id, source="requires_payment_method", status=status,
                                   webhook_url=origin.rstrip("/") + WEBHOOK_PATH)
            if row is None:
                now = await store.get(conn, payment_id)
                raise Conflict(f"This payment is already {now['status'] if now else 'gone'}")
        payment = SandboxPayment(**row)
        assert payment.webhook_url is not None
        body = event_body(f"payment_{status}", {
            "payment_id": payment.payment_id, "status": payment.status, "amount": payment.amount_cents,
            "currency": payment.currency, "metadata": {"order_id": payment.order_id}})
        if not await self._deliver_once(payment.webhook_url, body):
            self._deliver_later(payment.webhook_url, body)
        return payment

    async def cancel_payment(self, *, payment_id: str, reason: str) -> None:
        async with self._db.connection() as conn:
            await store.move(conn, payment_id, source="requires_payment_method", status="cancelled")

    async def create_refund(self, *, payment_id: str, refund_id: str, amount_cents: int, reason: str) -> RefundStarted:
        async with self._db.connection() as conn:
            row = await store.move(conn, payment_id, source="succeeded", status="refunded")
        if row is None or row["webhook_url"] is None:
            raise Conflict("The sandbox has no captured payment to refund")
        self._deliver_later(row["webhook_url"], event_body("refund_succeeded", {
            "payment_id": payment_id, "refund_id": refund_id, "status": "succeeded", "amount": amount_cents,
            "currency": row["currency"], "metadata": {"order_id": row["order_id"]}}))
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
