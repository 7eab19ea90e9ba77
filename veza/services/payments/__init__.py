"""Payment providers: who takes the buyer's money for a marketplace order.

Two implementations of one `PaymentProvider` protocol, chosen by `PAYMENTS_PROVIDER`:
- `hyperswitch`: juspay's open payment orchestrator over its REST API (production);
- `sandbox`: payments kept in PostgreSQL for development and tests, whose outcome a person picks
  on `/static/checkout.html`; it then delivers a signed webhook to our own
  `/webhooks/hyperswitch`, so the same verification and state machine run as in production.

Providers only move money; order states are decided by `veza.domain.marketplace` from the
webhooks they send.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol


@dataclasses.dataclass(frozen=True, slots=True)
class PaymentIntent:
    payment_id: str
    client_secret: str | None
    status: str


@dataclasses.dataclass(frozen=True, slots=True)
class RefundStarted:
    refund_id: str
    status: str


class PaymentProvider(Protocol):
    name: str  # stored in payments.provider

    async def create_payment(self, *, order_id: str, amount_cents: int, currency: str, description: str,
                             return_url: str) -> PaymentIntent: ...

    async def create_refund(self, *, payment_id: str, refund_id: str, amount_cents: int,
                            reason: str) -> RefundStarted: ...

    async def cancel_payment(self, *, payment_id: str, reason: str) -> None:
        """Void a payment nobody completed (its order expired), so it can no longer be paid."""

    async def close(self) -> None: ...
