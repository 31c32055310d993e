"""Periodic jobs that each server process runs beside its requests: expiring lapsed
holds, serving waiting lists and cleaning up old rows. Each is a cleanup_ctx of the app (`create_app` wires
them); every round runs with the app's database and survives a failed round."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from yatri.db import database_context
from yatri.keys import ClockKey, DatabaseKey, EventsKey, NotifierKey, SettingsKey
from yatri.services import booking, waitlist_offers
from yatri.services.accounts import delete_expired_sessions, delete_old_login_attempts
from yatri.services.events import publishing
from yatri.services.limits import delete_old_counters

log = logging.getLogger("yatri.jobs")

EXPIRE_EVERY_SECONDS = 30
CLEANUP_EVERY_SECONDS = 15 * 60


def run_every(
    app: web.Application, seconds: float, job: Callable[[web.Application], Awaitable[None]], what: str,
    *, at_start: bool = False,
) -> asyncio.Task:
    """Run `job(app)` every `seconds` (and once at once with `at_start`) with the app's
    database; a failure is logged and the next round still runs. Cancel the task on cleanup."""

    async def loop() -> None:
        if not at_start:
            await asyncio.sleep(seconds)
        while True:
            try:
                with database_context(app[DatabaseKey]), publishing(app[EventsKey]):
                    await job(app)
            except Exception:  # keep the loop alive through a database hiccup
                log.exception("%s failed", what)
            await asyncio.sleep(seconds)

    return asyncio.create_task(loop())


async def expire_holds(app: web.Application):
    """cleanup_ctx: at start and every half minute, mark lapsed holds expired and tell the
    traveller (seats of a lapsed hold stopped counting at its expiry time already), then
    lapse run-out waiting-list offers and offer the seats free now down each line."""

    async def expire(app: web.Application) -> None:
        now = app[ClockKey]()
        await booking.expire_lapsed_holds(now, app[NotifierKey])
        today = now.astimezone(ZoneInfo(app[SettingsKey].timezone)).date()
        await waitlist_offers.serve_lines(now, today, app[NotifierKey])

    task = run_every(app, EXPIRE_EVERY_SECONDS, expire, "expiring holds", at_start=True)
    yield
    task.cancel()


async def clean_up_rows(app: web.Application):
    """cleanup_ctx: every quarter of an hour, delete expired session rows, login
    attempts too old to count for throttling and rate counters of past minutes."""

    async def clean_up(app: web.Application) -> None:
        now = app[ClockKey]()
        idle = timedelta(minutes=app[SettingsKey].session_idle_minutes)
        removed = await delete_expired_sessions(idle, now)
        attempts = await delete_old_login_attempts(now)
        counters = await delete_old_counters(now)
        log.info("removed %d expired sessions, %d old login attempts and %d rate counters", removed, attempts, counters)

    task = run_every(app, CLEANUP_EVERY_SECONDS, clean_up, "session clean-up")
    yield
    task.cancel()
