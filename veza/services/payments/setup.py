"""`marketplace_ctx`: the payment provider, the webhook secret, signed download links, the
live pushes of committed changes, and the sweeper that expires unpaid orders.

A cleanup_ctx entry after the actor system and the hub (its pushes use them)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from aiohttp import web

from actors import ActorDead, MailboxFull
from actors.live_stream import LiveStream, Sale
from protocols import frames
from veza import feeds, keys
from veza.config import Settings
from veza.domain.marketplace import Announcer, expire_due_orders
from veza.security.tokens import load_or_create_dev_secret
from veza.services.payments import PaymentProvider
from veza.services.payments.hyperswitch import HyperswitchProvider
from veza.services.payments.sandbox import SandboxProvider
from veza.services.signed_links import SignedLinks

log = logging.getLogger("veza.marketplace")


@dataclasses.dataclass(frozen=True, slots=True)
class Marketplace:
    provider: PaymentProvider
    webhook_secret: str
    links: SignedLinks
    announce: Announcer


def webhook_secret(settings: Settings) -> str:
    return settings.hyperswitch_webhook_secret or load_or_create_dev_secret(
        settings.data_dir, "hyperswitch_webhook_secret", "HYPERSWITCH_WEBHOOK_SECRET")


def make_provider(settings: Settings, secret: str, db: Any) -> PaymentProvider:
    if settings.payments_provider == "hyperswitch":
        assert settings.hyperswitch_api_key is not None  # Settings.check refuses it unset
        return HyperswitchProvider(settings.hyperswitch_base_url, settings.hyperswitch_api_key,
                                   settings.hyperswitch_timeout)
    return SandboxProvider(db, secret)


def announcer(app: web.Application) -> Announcer:
    async def order_updated(order: dict[str, Any]) -> None:
        if order["buyer_id"] is not None:
            await app[keys.hub].send_to_user(order["buyer_id"], frames.encode(frames.OrderUpdated(order=order)))

    def stream_sale(stream_id: UUID, sale: dict[str, Any]) -> None:
        try:
            app[keys.actors].ref(LiveStream, stream_id).tell(Sale(**sale))
        except (MailboxFull, ActorDead) as exc:  # the sale is committed; only its live echo is lost
            log.warning("live sale announcement dropped (stream %s): %s", stream_id, exc)

    return Announcer(order_updated=order_updated, notify=feeds.notifier(app), stream_sale=stream_sale)


def sweep_interval(settings: Settings) -> float:
    return max(1.0, min(30.0, settings.order_payment_timeout / 4))


async def marketplace_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    secret = webhook_secret(settings)
    provider = make_provider(settings, secret, app[keys.db])
    links = SignedLinks(settings.jwt_secret or load_or_create_dev_secret(settings.data_dir))
    market = Marketplace(provider, secret, links, announcer(app))
    app[keys.marketplace] = market
    app[keys.config_summary_extra]["payments_provider"] = provider.name

    async def sweep() -> None:
        while True:
            await asyncio.sleep(sweep_interval(settings))
            try:
                expired = await expire_due_orders(app[keys.db], market.announce, market.provider)
                if expired:
                    log.info("expired %d unpaid orders", expired)
            except Exception:
                log.exception("order expiry sweep failed; retrying next round")

    sweeper = asyncio.get_running_loop().create_task(sweep(), name="marketplace-expiry")
    yield
    sweeper.cancel()
    await asyncio.gather(sweeper, return_exceptions=True)
    await provider.close()
