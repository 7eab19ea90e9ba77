"""The broker: how nodes hear each other. One channel per room/stream/feed/inbox.

Payloads are bytes; each delivery names the node it came from, so a subscriber can skip
what its own node already delivered locally (data plane) or apply everything, its own
included (control plane: flags, maintenance, session revocations).

`InProcessBroker` is the single-node broker (no REDIS_URL): publish reaches this node's
subscribers only. The Redis broker (veza's cluster layer) implements the same interface.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("actors.broker")

# handler(payload, origin_node_id); must be cheap and must not block: enqueue work, return.
BrokerHandler = Callable[[bytes, str], None]


class Subscription:
    __slots__ = ("channel", "handler")

    def __init__(self, channel: str, handler: BrokerHandler) -> None:
        self.channel = channel
        self.handler = handler


class Broker(Protocol):
    node_id: str

    async def publish(self, channel: str, payload: bytes) -> None: ...

    async def subscribe(self, channel: str, handler: BrokerHandler) -> Subscription: ...

    async def unsubscribe(self, subscription: Subscription) -> None: ...

    @property
    def healthy(self) -> bool: ...


class InProcessBroker:
    def __init__(self, node_id: str = "local") -> None:
        self.node_id = node_id
        self._subs: dict[str, list[Subscription]] = {}

    @property
    def healthy(self) -> bool:
        return True

    async def publish(self, channel: str, payload: bytes) -> None:
        deliver(self._subs.get(channel, ()), payload, self.node_id)

    async def subscribe(self, channel: str, handler: BrokerHandler) -> Subscription:
        sub = Subscription(channel, handler)
        self._subs.setdefault(channel, []).append(sub)
        return sub

    async def unsubscribe(self, subscription: Subscription) -> None:
        subs = self._subs.get(subscription.channel)
        if subs and subscription in subs:
            subs.remove(subscription)
            if not subs:
                del self._subs[subscription.channel]

    def channels(self) -> list[str]:
        return list(self._subs)


def deliver(subs: list[Subscription] | tuple[()], payload: bytes, origin: str) -> None:
    """Call each handler; one failing handler must not starve the others."""
    for sub in list(subs):
        try:
            sub.handler(payload, origin)
        except Exception:
            log.exception("broker handler for %s failed", sub.channel)
