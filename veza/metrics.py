"""Prometheus metrics, one registry per app (no global default registry)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


_WIDTH = len(LATENCY_BUCKETS) + 2  # a count per bucket, the +Inf bucket, the sum of seconds


class RouteStats:
    """The numbers of one route (method and template), by status; the edge holds one per
    route so a request costs one dict lookup and a bisect."""

    __slots__ = ("by_status",)

    def __init__(self) -> None:
        self.by_status: dict[int, list[float]] = {}

    def observe(self, status: int, seconds: float) -> None:
        series = self.by_status.get(status)
        if series is None:
            series = self.by_status[status] = [0.0] * _WIDTH
        series[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series[-1] += seconds


class RequestStats:
    """Request counts and latency histograms, kept as plain numbers on the request path and
    turned into Prometheus families only when scraped (a custom collector).

    prometheus_client's own Counter/Histogram take a lock and walk the buckets in Python on
    every observation; on one event loop nothing else can touch these numbers.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], RouteStats] = {}

    def route(self, method: str, route: str) -> RouteStats:
        """The numbers of `method route` (a template, bounded in number, never a raw path)."""
        stats = self._routes.get((method, route))
        if stats is None:
            stats = self._routes[(method, route)] = RouteStats()
        return stats

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("veza_http_requests", "HTTP requests by route, method and status",
                                       labels=["method", "route", "status"])
        latency = HistogramMetricFamily("veza_http_request_duration_seconds", "HTTP request latency by route",
                                        labels=["method", "route"])
        bounds = [str(b) for b in LATENCY_BUCKETS] + ["+Inf"]
        for (method, route), stats in list(self._routes.items()):
            total = [0.0] * _WIDTH
            for status, series in list(stats.by_status.items()):
                requests.add_metric([method, route, str(status)], sum(series[:-1]))
                for i, value in enumerate(series):
                    total[i] += value
            if not stats.by_status:
                continue
            cumulative, buckets = 0.0, []
            for bound, n in zip(bounds, total[:-1]):
                cumulative += n
                buckets.append((bound, cumulative))
            latency.add_metric([method, route], buckets, total[-1])
        yield requests
        yield latency


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = RequestStats()
        registry.register(self.requests)
        self.websockets = Gauge("veza_websockets_open", "Open WebSocket connections", registry=registry)
        self.websocket_closes = Counter("veza_websocket_closes_total", "WebSocket closes by close code (the server's, or the client's when it closed first)",
                                        ["code"], registry=registry)
        self.websocket_dropped = Counter("veza_websocket_volatile_dropped_total",
                                         "Volatile events not delivered to slow sockets", registry=registry)
        self.actors = Gauge("veza_actors", "Live actors by kind", ["kind"], registry=registry)
