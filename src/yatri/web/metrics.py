"""Prometheus metrics: requests by route and status, and their latency.

Labels use the route's pattern (`/trips/{slug}`), never the raw path, so that the
number of series stays bounded whatever URLs clients send.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "yatri_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "yatri_http_request_duration_seconds",
            "Time to answer HTTP requests",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )

    def observe(self, request: web.Request, status: int, seconds: float) -> None:
        route = _route(request)
        self.requests.labels(request.method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    async def handle(self, request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(self.registry))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource if request.match_info.route else None
    return resource.canonical if resource is not None else "unmatched"
