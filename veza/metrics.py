"""Prometheus metrics, one registry per app (no global default registry)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class RequestStats:
    """Request counts and latency histograms, kept as plain numbers on the request path and
    turned into Prometheus families only when scraped (a custom collector).

    prometheus_client's own Counter/Histogram take a lock and walk the buckets in Python on
    every observation; on one event loop nothing else can touch these numbers, so one dict
    lookup and a bisect do.
    """

    def __init__(self) -> None:
        # (method, route, status) -> [count per latency bucket..., +Inf bucket, sum of seconds]
        self._series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        series = self._series.get((method, route, status))
        if series is None:
            series = self._series[(method, route, status)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        series[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("veza_http_requests", "HTTP requests by route, method and status",
                                       labels=["method", "route", "status"])
        by_route: dict[tuple[str, str], list[float]] = {}
        for (method, route, status), series in list(self._series.items()):
            requests.add_metric([method, route, str(status)], sum(series[:-1]))
            total = by_route.setdefault((method, route), [0.0] * len(series))
            for i, value in enumerate(series):
                total[i] += value
        yield requests
        latency = HistogramMetricFamily("veza_http_request_duration_seconds", "HTTP request latency by route",
                                        labels=["method", "route"])
        bounds = [str(b) for b in LATENCY_BUCKETS] + ["+Inf"]
        for (method, route), series in by_route.items():
            cumulative, buckets = 0.0, []
            for bound, n in zip(bounds, series[:-1]):
                cumulative += n
                buckets.append((bound, cumulative))
            latency.add_metric([method, route], buckets, series[-1])
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

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.observe(method, route, status, seconds)
