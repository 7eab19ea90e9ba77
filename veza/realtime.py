"""The actor system and broker of this node, as one cleanup_ctx resource.

Actors get what they need through `ActorContext` (they never import `veza`). Teardown
runs before the database pool closes, so actors persist what they accepted first.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from actors import ActorSystem
from actors.broker import Broker, InProcessBroker
from veza import keys
from veza.config import Settings


@dataclasses.dataclass(slots=True)
class ActorContext:
    """Everything an actor may use from the outside world."""

    db: Any  # veza.db.Database
    broker: Broker
    node_id: str
    settings: Settings
    services: dict[str, Any] = dataclasses.field(default_factory=dict)


def node_id(settings: Settings) -> str:
    return settings.node_id or f"{socket.gethostname()}-{os.getpid()}"


async def actor_system_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.settings]
    broker: Broker = app.get(keys.broker) or InProcessBroker(node_id(settings))
    app[keys.broker] = broker
    context = ActorContext(db=app[keys.db], broker=broker, node_id=broker.node_id, settings=settings)
    system = ActorSystem(context)
    app[keys.actors] = system

    def refresh_actor_gauge() -> None:
        gauge = app[keys.metrics].actors
        gauge.clear()
        for kind, count in system.counts().items():
            gauge.labels(kind).set(count)

    app[keys.metric_refreshers].append(refresh_actor_gauge)
    yield
    await system.stop_all(timeout=settings.shutdown_timeout / 2)
