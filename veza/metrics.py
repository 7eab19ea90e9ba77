"""Prometheus metrics, one registry per app (no global default registry)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        # (method, route, status) -> label children: `labels()` costs a lock and a lookup
        # per call, and this runs on every request.
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.requests = Counter(
            "veza_http_requests_total", "HTTP requests by route, method and status",
            ["method", "route", "status"], registry=registry,
        )
        self.latency = Histogram(
            "veza_http_request_duration_seconds", "HTTP request latency by route",
            ["method", "route"], registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.websockets = Gauge("veza_websockets_open", "Open WebSocket connections", registry=registry)
        self.websocket_closes = Counter("veza_websocket_closes_total", "WebSocket closes by close code (the server's, or the client's when it closed first)",
                                        ["code"], registry=registry)
        self.websocket_dropped = Counter("veza_websocket_volatile_dropped_total",
                                         "Volatile events not delivered to slow sockets", registry=registry)
        self.actors = Gauge("veza_actors", "Live actors by kind", ["kind"], registry=registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        children = self._request_children.get((method, route, status))
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._request_children[(method, route, status)] = children
        children[0].inc()
        children[1].observe(seconds)
