"""What an operator needs to see of the cluster layer on /metrics."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import Gauge

from veza import keys


def register_cluster_metrics(app: web.Application, broker: Any) -> None:
    registry = app[keys.metrics_registry]
    up = Gauge("veza_redis_up", "1 while the broker's pub/sub connection to Redis is up", registry=registry)
    dropped = Gauge("veza_broker_dropped_total", "Publishes other nodes did not get (Redis away)", registry=registry)
    reconnects = Gauge("veza_broker_reconnects_total", "Broker reconnections to Redis", registry=registry)
    channels = Gauge("veza_broker_channels", "Redis channels this node is subscribed to", registry=registry)
    rooms = Gauge("veza_room_events_total", "Room events by how the sequencer handled them",
                  ["outcome"], registry=registry)

    def refresh() -> None:
        up.set(1 if broker.healthy else 0)
        dropped.set(broker.dropped)
        reconnects.set(broker.reconnects)
        channels.set(len(broker.channels()))
        hub = app.get(keys.hub)
        if hub is not None:
            rooms.labels("filled_from_db").set(hub.room_stats["filled"])
            rooms.labels("duplicate_dropped").set(hub.room_stats["dropped"])

    app[keys.metric_refreshers].append(refresh)
