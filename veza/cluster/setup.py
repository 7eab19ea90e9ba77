"""The cluster layer as one cleanup_ctx resource, placed before the actor system.

With `REDIS_URL`: the Redis broker (the actor system then uses it instead of the
in-process one), the "redis" health check (non-critical: a node without Redis keeps
serving its local rooms, `/readyz` says `degraded`), cluster presence, and the session
revocation relay. Without it: in-process presence only; the actor system makes its
in-process broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from veza import keys
from veza.cluster.metrics import register_cluster_metrics
from veza.cluster.presence import LocalPresence, RedisPresence
from veza.cluster.redis_broker import RedisBroker
from veza.cluster.session_relay import SessionRelay
from veza.health import CheckResult
from veza.realtime import node_id


def redis_check(broker: RedisBroker):  # type: ignore[no-untyped-def]
    async def run() -> CheckResult:
        details = {"channels": len(broker.channels()), "reconnects": broker.reconnects, "dropped": broker.dropped}
        if not broker.healthy:
            return CheckResult("error", details, error="pub/sub connection down, reconnecting")
        async with asyncio.timeout(1.0):
            await broker.client.ping()
        return CheckResult("ok", details)

    return run


async def cluster_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    if not settings.redis_url:
        app[keys.presence] = LocalPresence()
        yield
        return
    broker = RedisBroker(settings.redis_url, node_id(settings), settings.redis_prefix)
    await broker.start()
    app[keys.broker] = broker
    app[keys.health_checks].add("redis", redis_check(broker), critical=False)
    register_cluster_metrics(app, broker)
    presence = RedisPresence(broker.client, broker.node_id, settings.redis_prefix, ttl=settings.presence_ttl)
    await presence.start()
    app[keys.presence] = presence
    relay = SessionRelay(broker, app[keys.session_events])
    await relay.start()
    app[keys.config_summary_extra]["cluster"] = {"node_id": broker.node_id, "broker": "redis"}
    yield
    await relay.stop()
    await presence.stop()
    await broker.close()
