"""`payouts_ctx`: Stripe Connect (or the sandbox Connect), the Stripe webhook secret, the
balance cache, and this node's PayoutWorker with the ticker that wakes it.

A cleanup_ctx entry after the actor system and the feeds (its notifications reach the
seller's Inbox). Teardown stops the ticker, lets the round in progress finish (`Drain`),
then closes the Stripe client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from actors import ActorDead, ActorRef, MailboxFull
from actors.payouts import Drain, PayoutServices, PayoutWorker, Wake
from veza import feeds, keys
from veza.config import Settings
from veza.domain import payouts
from veza.security.tokens import load_or_create_dev_secret
from veza.services.signed_links import SignedLinks
from veza.services.stripe_connect import Connect
from veza.services.stripe_connect.balance_cache import BalanceCache
from veza.services.stripe_connect.client import StripeConnect
from veza.services.stripe_connect.sandbox import SandboxConnect

log = logging.getLogger("veza.payouts")
WORKER_KEY = "node"


@dataclasses.dataclass(frozen=True, slots=True)
class Payouts:
    connect: Connect
    webhook_secret: str
    payer: payouts.Payer
    balances: BalanceCache
    worker: ActorRef[PayoutWorker]

    def wake(self, reason: str = "tick") -> None:
        try:
            self.worker.tell(Wake(reason))
        except (MailboxFull, ActorDead):  # enough wakes are queued, or the node is stopping
            pass


def webhook_secret(settings: Settings) -> str:
    return settings.stripe_webhook_secret or load_or_create_dev_secret(
        settings.data_dir, "stripe_webhook_secret", "STRIPE_WEBHOOK_SECRET")


def make_connect(settings: Settings, db: object, secret: str) -> Connect:
    if settings.stripe_secret_key:
        return StripeConnect(settings.stripe_secret_key, api_base=settings.stripe_api_base,
                             timeout=settings.stripe_timeout)
    links = SignedLinks(settings.jwt_secret or load_or_create_dev_secret(settings.data_dir))
    return SandboxConnect(db, secret, links)


def retry_policy(settings: Settings) -> payouts.RetryPolicy:
    return payouts.RetryPolicy(enabled=settings.transfer_retry_enabled, max_retries=settings.transfer_max_retries,
                               base=settings.transfer_retry_base, cap=settings.transfer_retry_cap)


async def payouts_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    secret = webhook_secret(settings)
    connect = make_connect(settings, app[keys.db], secret)
    timing = app.get(keys.payout_timing) or payouts.Timing()
    balances = BalanceCache(settings.balance_cache_ttl)
    payer = payouts.Payer(db=app[keys.db], connect=connect, policy=retry_policy(settings),
                          notify=feeds.notifier(app), clock=timing.clock, jitter=timing.jitter,
                          lease=settings.transfer_lease, settled=balances.forget)
    system = app[keys.actors]
    stopping = asyncio.Event()
    system.provide(PayoutWorker, PayoutServices(run_round=lambda: payouts.run_due(payer), batch=payer.batch,
                                                stopping=stopping.is_set))
    state = Payouts(connect, secret, payer, balances,
                    system.ref(PayoutWorker, WORKER_KEY))
    app[keys.payouts] = state
    app[keys.config_summary_extra].update({
        "stripe_connect_enabled": settings.stripe_secret_key is not None,
        "platform_fee_rate": settings.platform_fee_rate,
        "transfer_retry_enabled": settings.transfer_retry_enabled,
        "connect_provider": connect.name,
    })

    async def tick() -> None:
        while True:
            state.wake()
            await asyncio.sleep(settings.transfer_poll_interval)

    ticker = asyncio.get_running_loop().create_task(tick(), name="payouts-ticker")
    yield
    ticker.cancel()
    await asyncio.gather(ticker, return_exceptions=True)
    stopping.set()
    try:
        await state.worker.ask(Drain(), timeout=settings.stripe_timeout * 3 + 5)
    except (ActorDead, TimeoutError, MailboxFull) as exc:
        log.warning("payout worker did not drain (%r); leased rows are taken over after their lease", exc)
    await connect.close()
