"""Sellers' Connect accounts: onboarding, the state Stripe reports, balances, and Stripe's
`account.updated` events.

- A creator's account is created once (Stripe is asked with an idempotency key of the
  user's, so two first calls make one account) and stored; each onboarding call answers a
  fresh Account Link.
- The account's `charges_enabled`, `payouts_enabled` and `details_submitted` follow
  Stripe: from `account.updated` (applied once per event id, never older over newer) and
  when the seller comes back from onboarding. When payouts become enabled, the payout
  worker is woken: the seller's waiting transfers run.
- Balances are Stripe's for the connected account, summed for the platform currency,
  read through a cache of at most 30 s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec

from veza.domain.errors import BadGateway, Conflict, Invalid, Unavailable
from veza.domain.unit_of_work import unit_of_work
from veza.services.stripe_connect import Account, Connect, ConnectError
from veza.services.stripe_connect.balance_cache import BalanceCache
from veza.store import orders as order_store
from veza.store import payouts as store

EVENT_PROVIDER = "stripe"  # webhook_events.provider of Stripe's events (the sandbox's included)


def upstream(exc: ConnectError) -> Exception:
    """A Connect failure as the seller's request sees it."""
    if exc.outcome == "permanent":
        return BadGateway("Stripe refused the request", details={"stripe": exc.describe()[:300]})
    return Unavailable("Stripe is unreachable right now; try again shortly")


def account_view(account: dict[str, Any] | None) -> dict[str, Any]:
    if account is None:
        return {"connected": False, "provider": None, "account_id": None, "charges_enabled": False,
                "payouts_enabled": False, "details_submitted": False}
    return {"connected": True, **{k: account[k] for k in ("provider", "account_id", "charges_enabled",
                                                         "payouts_enabled", "details_submitted")}}


async def onboard(db: Any, connect: Connect, user_id: UUID, email: str, *, refresh_url: str, return_url: str) -> str:
    """The seller's onboarding URL (their account is created on the first call)."""
    async with db.connection() as conn:
        account = await store.get_account(conn, user_id)
    try:
        if account is None:
            made = await connect.create_account(email=email, user_id=str(user_id),
                                                idempotency_key=f"veza_account_{user_id}")
            async with db.transaction() as conn:
                account = await store.insert_account(conn, user_id, connect.name, made.id,
                                                     charges_enabled=made.charges_enabled,
                                                     payouts_enabled=made.payouts_enabled,
                                                     details_submitted=made.details_submitted)
        if account["provider"] != connect.name:
            raise Conflict(f"Your payout account is a {account['provider']} account; this server uses "
                           f"{connect.name}", details={"provider": account["provider"]})
        return await connect.onboarding_link(account["account_id"], refresh_url=refresh_url, return_url=return_url)
    except ConnectError as exc:
        raise upstream(exc) from None


async def sync(db: Any, account: Account, at: dt.datetime, wake: Callable[[], Any]) -> dict[str, Any] | None:
    """Store what Stripe says of the account (unless newer news was stored); wake the payout
    worker when payouts became enabled. The stored account, or None."""
    async with unit_of_work(db) as uow:
        synced = await store.sync_account(uow.conn, account.id, charges_enabled=account.charges_enabled,
                                          payouts_enabled=account.payouts_enabled,
                                          details_submitted=account.details_submitted, at=at)
        if synced is not None and synced[1]:
            uow.after_commit(wake)
    return synced[0] if synced else None


async def status(db: Any, connect: Connect, user_id: UUID, now: dt.datetime,
                 wake: Callable[[], Any]) -> dict[str, Any]:
    """The seller's account; read afresh from Stripe while payouts are not enabled yet (the
    seller may just be back from onboarding)."""
    async with db.connection() as conn:
        account = await store.get_account(conn, user_id)
    if account is not None and not account["payouts_enabled"] and account["provider"] == connect.name:
        try:
            fresh = await connect.retrieve_account(account["account_id"])
        except ConnectError as exc:
            raise upstream(exc) from None
        account = await sync(db, fresh, now, wake) or account
    return account_view(account)


async def balance(db: Any, connect: Connect, cache: BalanceCache, user_id: UUID, currency: str) -> dict[str, Any]:
    async with db.connection() as conn:
        account = await store.get_account(conn, user_id)
    if account is None or account["provider"] != connect.name:
        return {"connected": False, "available": 0, "pending": 0, "currency": currency}
    account_id = account["account_id"]
    try:
        found = await cache.get(account_id, lambda: connect.balance(account_id, currency))
    except ConnectError as exc:
        raise upstream(exc) from None
    return {"connected": True, "available": found.available, "pending": found.pending, "currency": currency}


# Stripe's events.

class _EventData(msgspec.Struct, forbid_unknown_fields=False):
    object: dict[str, Any]


class _Event(msgspec.Struct, forbid_unknown_fields=False):
    id: str
    type: str
    created: int
    data: _EventData


@dataclasses.dataclass(frozen=True, slots=True)
class StripeEvent:
    id: str
    type: str
    created: dt.datetime
    object: dict[str, Any]


def parse_event(body: bytes) -> StripeEvent:
    try:
        raw = msgspec.json.decode(body, type=_Event)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise Invalid(f"Malformed Stripe event: {exc}", details={"body": "not a Stripe event"}) from None
    if not raw.id or len(raw.id) > 255 or not raw.type:
        raise Invalid("The event has no id or type", details={"id": "required"})
    try:
        created = dt.datetime.fromtimestamp(raw.created, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise Invalid("The event's created time is out of range", details={"created": "out of range"}) from None
    return StripeEvent(raw.id, raw.type, created, raw.data.object)


def _account_of(obj: dict[str, Any]) -> Account | None:
    account_id = obj.get("id")
    if obj.get("object", "account") != "account" or not isinstance(account_id, str):
        return None
    return Account(account_id, obj.get("charges_enabled") is True, obj.get("payouts_enabled") is True,
                   obj.get("details_submitted") is True)


async def apply_event(db: Any, event: StripeEvent, payload: str, wake: Callable[[], Any]) -> str:
    """Apply a verified event once: 'applied', 'replay' or 'ignored'."""
    async with unit_of_work(db) as uow:
        conn = uow.conn
        if not await order_store.record_event(conn, EVENT_PROVIDER, event.id, event.type, payload):
            return "replay"
        account = _account_of(event.object) if event.type == "account.updated" else None
        synced = None
        if account is not None:
            synced = await store.sync_account(conn, account.id, charges_enabled=account.charges_enabled,
                                              payouts_enabled=account.payouts_enabled,
                                              details_submitted=account.details_submitted, at=event.created)
        if synced is None:
            await order_store.set_event_outcome(conn, EVENT_PROVIDER, event.id, "ignored")
            return "ignored"
        if synced[1]:
            uow.after_commit(wake)
    return "applied"
