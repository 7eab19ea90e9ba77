"""Stripe Connect: the sellers' accounts and the transfers that pay them.

One `Connect` protocol, two implementations, chosen by whether `STRIPE_SECRET_KEY` is set:
- `client.StripeConnect`: Stripe's API through the `stripe` library's async `StripeClient`
  (production; `STRIPE_API_BASE` points it at a local fake in tests);
- `sandbox.SandboxConnect`: accounts a person enables on a local page and a ledger in
  PostgreSQL, so `veza serve` alone runs sale -> payout -> balance (development only).

Both raise `ConnectError` with what the payout worker must know of a failure: whether the
outcome is `unknown` (the money may have moved: keep the idempotency key, look it up
first), a known `transient` failure (nothing moved: retry later with a new key), or
`permanent` (retrying cannot help).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, Protocol

Outcome = Literal["transient", "permanent", "unknown"]


class ConnectError(Exception):
    def __init__(self, outcome: Outcome, message: str, *, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.code = code
        self.status = status

    def describe(self) -> str:
        parts = [p for p in (str(self.status) if self.status else None, self.code) if p]
        return f"{' '.join(parts)}: {self}" if parts else str(self)


@dataclasses.dataclass(frozen=True, slots=True)
class Account:
    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Balance:
    available: int
    pending: int


@dataclasses.dataclass(frozen=True, slots=True)
class ProviderTransfer:
    id: str
    amount: int
    destination: str
    transfer_group: str | None
    amount_reversed: int
    metadata: dict[str, Any]


class Connect(Protocol):
    name: str  # stored in seller_accounts.provider: "stripe" or "sandbox"

    async def create_account(self, *, email: str, user_id: str, idempotency_key: str) -> Account: ...

    async def retrieve_account(self, account_id: str) -> Account: ...

    async def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str: ...

    async def balance(self, account_id: str, currency: str) -> Balance: ...

    async def create_transfer(self, *, amount: int, currency: str, destination: str, transfer_group: str,
                              metadata: dict[str, str], idempotency_key: str) -> ProviderTransfer: ...

    async def find_transfer(self, *, transfer_group: str, destination: str,
                            transfer_id: str) -> ProviderTransfer | None:
        """The transfer made for our transfer row `transfer_id` (its metadata), if any."""
        ...

    async def reverse_transfer(self, provider_transfer_id: str, *, amount: int, metadata: dict[str, str],
                               idempotency_key: str) -> str:
        """Reverse `amount` of the transfer; the reversal's id."""
        ...

    async def find_reversal(self, provider_transfer_id: str, transfer_id: str) -> str | None:
        """The reversal made for our transfer row `transfer_id`, if any."""
        ...

    async def close(self) -> None: ...
