"""`StripeConnect`: Stripe's Connect API through the `stripe` library's async StripeClient.

Requests go out over `stripe.AIOHTTPClient` (closed with `close()`), with the library's own
network retries off: the payout worker owns retries, their schedule and their keys. Every
Stripe failure becomes a `ConnectError` whose `outcome` says what the worker may do next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import stripe

from veza.services.stripe_connect import Account, Balance, ConnectError, ProviderTransfer

log = logging.getLogger("veza.stripe")

# Known failures that nothing moved on and that time may cure.
TRANSIENT_CODES = frozenset({"balance_insufficient", "insufficient_funds", "rate_limit", "lock_timeout"})
LOOKUP_LIMIT = 100


def classify(exc: stripe.StripeError) -> ConnectError:
    """What a Stripe error means for the money: unknown, transient or permanent."""
    status = exc.http_status
    code = exc.code
    message = exc.user_message or str(exc) or type(exc).__name__
    if isinstance(exc, stripe.APIConnectionError) or status is None:
        return ConnectError("unknown", message, code=code, status=status)  # it may have reached Stripe
    if status >= 500 or status == 409:  # indeterminate, or the same key still in flight
        return ConnectError("unknown", message, code=code, status=status)
    if isinstance(exc, stripe.RateLimitError) or status == 429 or code in TRANSIENT_CODES:
        return ConnectError("transient", message, code=code, status=status)
    if isinstance(exc, (stripe.AuthenticationError, stripe.IdempotencyError)):
        # Our key or our request is wrong, not the seller's account: an operator fixes it.
        log.error("Stripe refused our request (%s): %s", type(exc).__name__, message)
        return ConnectError("transient", message, code=code, status=status)
    return ConnectError("permanent", message, code=code, status=status)


def _account(obj: Any) -> Account:
    return Account(id=obj["id"], charges_enabled=bool(obj.get("charges_enabled")),
                   payouts_enabled=bool(obj.get("payouts_enabled")),
                   details_submitted=bool(obj.get("details_submitted")))


def _transfer(obj: Any) -> ProviderTransfer:
    destination = obj.get("destination")
    if not isinstance(destination, str):
        destination = destination["id"] if destination else ""
    metadata = obj.get("metadata") or {}
    return ProviderTransfer(id=obj["id"], amount=int(obj["amount"]), destination=destination,
                            transfer_group=obj.get("transfer_group"), amount_reversed=int(obj.get("amount_reversed") or 0),
                            metadata={k: metadata[k] for k in metadata})


def _sum(entries: Any, currency: str) -> int:
    return sum(int(e["amount"]) for e in entries or () if str(e["currency"]).upper() == currency.upper())


class StripeConnect:
    name = "stripe"

    def __init__(self, secret_key: str, *, api_base: str | None = None, timeout: float = 10.0) -> None:
        self._http = stripe.AIOHTTPClient(timeout=aiohttp.ClientTimeout(total=timeout))
        self._timeout = timeout
        self._client = stripe.StripeClient(
            secret_key, http_client=self._http, max_network_retries=0,
            base_addresses={"api": api_base} if api_base else None)

    async def close(self) -> None:
        await self._http.close_async()

    async def _call(self, call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        """The answer as plain data (the library's objects are not dicts)."""
        try:
            # The session's timeout covers the request; this bounds the body read after it too.
            found = await asyncio.wait_for(call(), self._timeout * 1.5)
            return found.to_dict() if hasattr(found, "to_dict") else dict(found)
        except stripe.StripeError as exc:
            raise classify(exc) from None
        except (asyncio.TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ConnectError("unknown", f"Stripe did not answer: {type(exc).__name__}") from None

    async def create_account(self, *, email: str, user_id: str, idempotency_key: str) -> Account:
        params: Any = {"type": "express", "email": email, "metadata": {"user_id": user_id},
                       "capabilities": {"transfers": {"requested": True}}}
        return _account(await self._call(lambda: self._client.v1.accounts.create_async(
            params, {"idempotency_key": idempotency_key})))

    async def retrieve_account(self, account_id: str) -> Account:
        return _account(await self._call(lambda: self._client.v1.accounts.retrieve_async(account_id)))

    async def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        link = await self._call(lambda: self._client.v1.account_links.create_async(
            {"account": account_id, "type": "account_onboarding", "refresh_url": refresh_url,
             "return_url": return_url}))
        return str(link["url"])

    async def balance(self, account_id: str, currency: str) -> Balance:
        found = await self._call(lambda: self._client.v1.balance.retrieve_async(
            options={"stripe_account": account_id}))
        return Balance(available=_sum(found.get("available"), currency), pending=_sum(found.get("pending"), currency))

    async def create_transfer(self, *, amount: int, currency: str, destination: str, transfer_group: str,
                              metadata: dict[str, str], idempotency_key: str) -> ProviderTransfer:
        params: Any = {"amount": amount, "currency": currency.lower(), "destination": destination,
                       "transfer_group": transfer_group, "metadata": metadata}
        return _transfer(await self._call(lambda: self._client.v1.transfers.create_async(
            params, {"idempotency_key": idempotency_key})))

    async def find_transfer(self, *, transfer_group: str, destination: str,
                            transfer_id: str) -> ProviderTransfer | None:
        found = await self._call(lambda: self._client.v1.transfers.list_async(
            {"transfer_group": transfer_group, "destination": destination, "limit": LOOKUP_LIMIT}))
        for obj in found.get("data") or ():
            transfer = _transfer(obj)
            if transfer.metadata.get("transfer_id") == transfer_id:
                return transfer
        return None

    async def reverse_transfer(self, provider_transfer_id: str, *, amount: int, metadata: dict[str, str],
                               idempotency_key: str) -> str:
        params: Any = {"amount": amount, "metadata": metadata}
        reversal = await self._call(lambda: self._client.v1.transfers.reversals.create_async(
            provider_transfer_id, params, {"idempotency_key": idempotency_key}))
        return str(reversal["id"])

    async def find_reversal(self, provider_transfer_id: str, transfer_id: str) -> str | None:
        found = await self._call(lambda: self._client.v1.transfers.reversals.list_async(
            provider_transfer_id, {"limit": LOOKUP_LIMIT}))
        for obj in found.get("data") or ():
            if (obj.get("metadata") or {}).get("transfer_id") == transfer_id:
                return str(obj["id"])
        return None
