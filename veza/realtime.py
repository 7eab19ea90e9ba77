"""The actor system and broker of this node, as one cleanup_ctx resource.

The system starts empty: each domain's own cleanup_ctx entry hands its actor class the
typed services it needs with `system.provide(...)` (`veza.rooms.rooms_ctx` for ChatRoom,
`veza.feeds.feeds_ctx` for Feed and Inbox, `veza.live.service.live_ctx` for LiveStream,
`veza.controls.audit.start_audit` for AuditLog); actors never import `veza`. Teardown
runs before the database pool closes, so actors persist what they accepted first.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from actors import ActorSystem
from actors.broker import Broker, InProcessBroker
from veza import keys
from veza.config import Settings


def node_id(settings: Settings) -> str:
    return settings.node_id or f"{socket.gethostname()}-{os.getpid()}"


async def actor_system_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    broker: Broker = app.get(keys.broker) or InProcessBroker(node_id(settings))
    app[keys.broker] = broker
    system = ActorSystem()
    app[keys.actors] = system

    def refresh_actor_gauge() -> None:
        gauge = app[keys.metrics].actors
        gauge.clear()
        for kind, count in system.counts().items():
            gauge.labels(kind).set(count)

    app[keys.metric_refreshers].append(refresh_actor_gauge)
    yield
    await system.stop_all(timeout=settings.shutdown_timeout / 2)
