"""The sandbox Connect: Stripe Connect's part that payouts use, kept in PostgreSQL.

With no `STRIPE_SECRET_KEY` outside production it stands in for Stripe, so `veza serve`
alone runs sale -> payout -> balance:
- an onboarding link opens `/static/connect-sandbox.html`, where the seller enables the
  account; the sandbox then POSTs a signed `account.updated` event to our own
  `/api/v1/webhooks/stripe`, so the production path (signature, event, sync) runs;
- transfers and reversals settle in a ledger, each once per idempotency key, and the
  account's balance is read from it (all of it available; the sandbox has no pending funds).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import msgspec

from veza.services.signed_links import SignedLinks
from veza.services.stripe_connect import Account, Balance, ConnectError, ProviderTransfer
from veza.services.stripe_connect.signing import HEADER, signature_header
from veza.store import sandbox_connect as store

log = logging.getLogger("veza.stripe.sandbox")

WEBHOOK_PATH = "/api/v1/webhooks/stripe"
PAGE = "/static/connect-sandbox.html"
LINK_TTL = 3600


def account_path(account_id: str) -> str:
    """What an onboarding link's signature covers."""
    return f"/sandbox/connect/accounts/{account_id}"


def _account(row: dict[str, Any]) -> Account:
    return Account(id=row["account_id"], charges_enabled=row["charges_enabled"],
                   payouts_enabled=row["payouts_enabled"], details_submitted=row["details_submitted"])


def _transfer(entry: dict[str, Any], reversed_cents: int) -> ProviderTransfer:
    return ProviderTransfer(id=entry["id"], amount=entry["amount_cents"], destination=entry["account_id"],
                            transfer_group=entry["transfer_group"], amount_reversed=reversed_cents,
                            metadata=dict(entry["metadata"]))


def account_updated_event(account: Account) -> bytes:
    """The body of the event Stripe sends when an account changes."""
    return msgspec.json.encode({
        "id": f"evt_sbx_{secrets.token_hex(12)}", "object": "event", "type": "account.updated",
        "created": int(time.time()), "livemode": False,
        "data": {"object": {"id": account.id, "object": "account", "charges_enabled": account.charges_enabled,
                            "payouts_enabled": account.payouts_enabled,
                            "details_submitted": account.details_submitted}}})


class SandboxConnect:
    name = "sandbox"

    def __init__(self, db: Any, webhook_secret: str, links: SignedLinks) -> None:
        self._db = db
        self._secret = webhook_secret
        self.links = links
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self) -> None:
        await self._session.close()

    async def _get(self, conn: Any, account_id: str) -> dict[str, Any]:
        row = await store.get_account(conn, account_id)
        if row is None:
            raise ConnectError("permanent", f"No such account: '{account_id}'", code="account_invalid", status=404)
        return row

    async def create_account(self, *, email: str, user_id: str, idempotency_key: str) -> Account:
        async with self._db.transaction() as conn:
            row = await store.create_account(conn, f"acct_sbx_{secrets.token_hex(8)}", email, idempotency_key)
        return _account(row)

    async def retrieve_account(self, account_id: str) -> Account:
        async with self._db.connection() as conn:
            return _account(await self._get(conn, account_id))

    async def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        link, _ = self.links.sign(account_path(account_id), LINK_TTL)
        query = link.split("?", 1)[1]
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(return_url))
        return (f"{origin}{PAGE}?{urlencode({'account': account_id})}&{query}&"
                f"{urlencode({'return_url': return_url, 'refresh_url': refresh_url})}")

    async def enable(self, account_id: str, *, origin: str) -> Account:
        """The seller finished the sandbox's onboarding: the account may take payouts; the event
        that says so is delivered to `origin`'s webhook (a failed delivery is caught up by the
        next status sync)."""
        async with self._db.transaction() as conn:
            row = await store.enable_account(conn, account_id)
        if row is None:
            raise ConnectError("permanent", f"No such account: '{account_id}'", code="account_invalid", status=404)
        account = _account(row)
        body = account_updated_event(account)
        headers = {"Content-Type": "application/json", HEADER: signature_header(self._secret, body)}
        try:
            async with self._session.post(origin.rstrip("/") + WEBHOOK_PATH, data=body, headers=headers) as resp:
                if resp.status >= 300:
                    log.warning("sandbox account.updated delivery answered %s", resp.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("sandbox account.updated delivery failed: %r", exc)
        return account

    async def balance(self, account_id: str, currency: str) -> Balance:
        async with self._db.connection() as conn:
            await self._get(conn, account_id)
            return Balance(available=await store.balance(conn, account_id, currency.upper()), pending=0)

    async def create_transfer(self, *, amount: int, currency: str, destination: str, transfer_group: str,
                              metadata: dict[str, str], idempotency_key: str) -> ProviderTransfer:
        async with self._db.transaction() as conn:
            account = await self._get(conn, destination)
            if not account["payouts_enabled"]:
                raise ConnectError("permanent", "The destination account cannot receive transfers yet",
                                   code="insufficient_capabilities_for_transfer", status=400)
            entry = await store.insert_entry(conn, entry_id=f"tr_sbx_{secrets.token_hex(12)}", kind="transfer",
                                             account_id=destination, amount_cents=amount, currency=currency.upper(),
                                             transfer_group=transfer_group, transfer_id=None, metadata=metadata,
                                             key=idempotency_key)
            if (entry["kind"], entry["amount_cents"], entry["account_id"]) != ("transfer", amount, destination):
                raise ConnectError("transient", "Keys for idempotent requests can only be used with the same"
                                   " parameters they were first used with", code="idempotency_error", status=400)
            return _transfer(entry, await store.reversed_amount(conn, entry["id"]))

    async def find_transfer(self, *, transfer_group: str, destination: str,
                            transfer_id: str) -> ProviderTransfer | None:
        async with self._db.connection() as conn:
            entry = await store.find(conn, kind="transfer", metadata_transfer_id=transfer_id, account_id=destination,
                                     transfer_group=transfer_group)
            return _transfer(entry, await store.reversed_amount(conn, entry["id"])) if entry else None

    async def reverse_transfer(self, provider_transfer_id: str, *, amount: int, metadata: dict[str, str],
                               idempotency_key: str) -> str:
        async with self._db.transaction() as conn:
            transfer = await store.get_entry(conn, provider_transfer_id)
            if transfer is None or transfer["kind"] != "transfer":
                raise ConnectError("permanent", f"No such transfer: '{provider_transfer_id}'",
                                   code="resource_missing", status=404)
            replay = await store.entry_by_key(conn, idempotency_key)
            if replay is not None:
                return str(replay["id"])
            entry_id = f"trr_sbx_{secrets.token_hex(12)}"
            left = transfer["amount_cents"] - await store.reversed_amount(conn, provider_transfer_id)
            if amount > left:
                raise ConnectError("permanent", "Cannot reverse more than is left on the transfer",
                                   code="transfer_already_reversed", status=400)
            entry = await store.insert_entry(conn, entry_id=entry_id, kind="reversal",
                                             account_id=transfer["account_id"], amount_cents=amount,
                                             currency=transfer["currency"], transfer_group=transfer["transfer_group"],
                                             transfer_id=provider_transfer_id, metadata=metadata, key=idempotency_key)
            return str(entry["id"])

    async def find_reversal(self, provider_transfer_id: str, transfer_id: str) -> str | None:
        async with self._db.connection() as conn:
            entry = await store.find(conn, kind="reversal", metadata_transfer_id=transfer_id,
                                     of_transfer=provider_transfer_id)
            return str(entry["id"]) if entry else None
