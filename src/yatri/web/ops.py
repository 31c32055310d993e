"""Operations endpoints for load balancers and monitoring."""

import asyncio
import hmac
import logging

from aiohttp import web

from yatri.errors import PermissionDenied, Unauthorized
from yatri.keys import DatabaseKey, MetricsKey, SettingsKey
from yatri.services import monitoring
from yatri.web.clients import client_in
from yatri.web.clock import now

log = logging.getLogger("yatri.ops")

# How long the database may take to answer /readyz or a scrape's queries.
DATABASE_TIMEOUT_SECONDS = 3


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            await request.app[DatabaseKey].db().execute_query("SELECT 1")
    except Exception as exc:  # any failure at all means "not ready"; the reason goes out
        log.warning("database not ready: %s", exc)
        return web.json_response(
            {"status": "unavailable", "reason": f"database unreachable: {type(exc).__name__}"}, status=503
        )
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text: for a bearer METRICS_TOKEN, or a client in METRICS_ALLOW."""
    _authorize_metrics(request)
    settings = request.app[SettingsKey]
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            snapshot = await monitoring.snapshot(now(request))
    except Exception as exc:  # the scrape still answers, with yatri_ready 0
        log.warning("metrics: database did not answer: %s", exc)
        snapshot = None
    return request.app[MetricsKey].response(snapshot, monitoring.last_backup(settings.var_dir))


def _authorize_metrics(request: web.Request) -> None:
    settings = request.app[SettingsKey]
    if settings.metrics_token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(sent.encode(), settings.metrics_token.encode()):
            return
    if client_in(request, settings.metrics_allow):
        return
    if settings.metrics_token:
        raise Unauthorized("Metrics need the METRICS_TOKEN as a bearer token.")
    raise PermissionDenied("Metrics are only for the addresses in METRICS_ALLOW.")
