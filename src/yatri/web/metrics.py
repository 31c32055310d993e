"""Prometheus metrics: requests by route and status, their latency, requests in flight,
the process, and the business numbers read at scrape time.

Labels use the route's pattern (`/trips/{slug}`), never the raw path, so that the
number of series stays bounded whatever URLs clients send.

Under `yatri serve --workers N` every worker writes its counters into files under
PROMETHEUS_MULTIPROC_DIR (set by `serve` before the workers start, and so before they
import prometheus_client); a scrape, answered by any one worker, adds up every
worker's, those of workers that have died included. Process metrics are those of the
worker that answered.
"""

from __future__ import annotations

import os

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest,
)  # fmt: skip
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from yatri.services.monitoring import Snapshot


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
        # livesum: a worker that dies mid-request stops counting (serve marks it dead).
        self.in_progress = Gauge(
            "yatri_http_requests_in_progress", "HTTP requests being answered", registry=self.registry,
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.streams = Gauge(
            "yatri_sse_connections", "Live-update (SSE) streams open", registry=self.registry, multiprocess_mode="livesum"
        )
        self.exposed = self._exposed_registry()

    def _exposed_registry(self) -> CollectorRegistry:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            ProcessCollector(registry=self.registry)
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        ProcessCollector(registry=registry)
        return registry

    def observe(self, request: web.Request, status: int, seconds: float) -> None:
        route = _route(request)
        self.requests.labels(request.method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def response(self, snapshot: Snapshot | None, backup: dict | None) -> web.Response:
        """Every worker's counters, then the business gauges (`snapshot` is None when the
        database did not answer: yatri_ready 0)."""
        business = CollectorRegistry(auto_describe=False)
        business.register(_Business(snapshot, backup))
        response = web.Response(body=generate_latest(self.exposed) + generate_latest(business))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response


class _Business:
    """A collector over one scrape's numbers."""

    def __init__(self, snapshot: Snapshot | None, backup: dict | None) -> None:
        self.snapshot = snapshot
        self.backup = backup

    def collect(self):
        yield _gauge("yatri_ready", "1 when the database answered this scrape (as /readyz checks)", int(self.snapshot is not None))
        if self.backup is not None:
            yield _gauge("yatri_backup_last_success_timestamp_seconds", "When the last `yatri backup` finished", self.backup["finished_at"])
            yield _gauge("yatri_backup_last_size_bytes", "Size of the last backup archive", self.backup["bytes"])
        if self.snapshot is None:
            return
        state = self.snapshot
        yield _labelled("yatri_bookings", "Bookings by status", "status", state.bookings)
        yield _gauge("yatri_payments_waiting_verification", "Submitted UTRs not yet verified or rejected", state.payments_waiting)
        yield _gauge("yatri_payment_oldest_waiting_seconds", "How long the oldest submitted payment has waited (0: none)",
                     state.oldest_payment_waiting_seconds)  # fmt: skip
        yield _labelled("yatri_holds", "Bookings holding seats until a deadline: open, or lapsed and not yet expired", "state",
                        {"open": state.holds_open, "lapsed": state.holds_lapsed})  # fmt: skip
        yield _labelled("yatri_jobs", "Jobs by state (services/jobs.py)", "state", state.jobs.by_state)
        yield _gauge("yatri_jobs_backlog", "Queued jobs whose time has come, not yet claimed by a worker", state.jobs.due)
        yield _gauge("yatri_jobs_dead", "Jobs that failed every try: /admin/jobs retries them", state.jobs.by_state["dead"])
        yield _gauge("yatri_job_oldest_due_seconds", "How long the oldest due job has waited for a worker (0: none)",
                     state.jobs.oldest_due_seconds)  # fmt: skip


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _labelled(name: str, documentation: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource if request.match_info.route else None
    return resource.canonical if resource is not None else "unmatched"
