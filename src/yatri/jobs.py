"""The job worker that runs in every server process (a cleanup_ctx that `create_app`
wires) and in `yatri work`: it claims due jobs from the database, runs each kind's
handler and records the outcome (services/jobs.py says how jobs are asked for, claimed,
retried and buried). The handlers by kind, and the periodic jobs with their intervals,
are listed here: a new kind of job is one line in `handlers()`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from tortoise.context import TortoiseContext

from yatri.db import database_context
from yatri.keys import ClockKey, DatabaseKey, EventsKey, NotifierKey, SettingsKey
from yatri.models import Job
from yatri.services import booking, jobs, waitlist_offers
from yatri.services.accounts import delete_expired_sessions, delete_old_login_attempts
from yatri.services.events import Events, publishing
from yatri.services.jobs import Handler, JobContext
from yatri.services.limits import delete_old_counters
from yatri.services.notify import send_mail
from yatri.settings import Settings

log = logging.getLogger("yatri.jobs")

JOBS_AT_ONCE = 8  # per process: mail is mostly waiting on the SMTP server
STOP_GRACE_SECONDS = 10  # at shutdown, running jobs get this long before they are given back
DONE_KEPT_DAYS = 7


async def expire_holds(ctx: JobContext, payload: dict) -> None:
    """Periodic: mark lapsed holds expired and tell the traveller (seats of a lapsed hold
    stopped counting at its expiry time already), then lapse run-out waiting-list offers
    and offer the seats free now down each line."""
    now = ctx.clock()
    await booking.expire_lapsed_holds(now, ctx.notifier)
    today = now.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    await waitlist_offers.serve_lines(now, today, ctx.notifier)


async def clean_up(ctx: JobContext, payload: dict) -> None:
    """Periodic: delete expired session rows, login attempts too old to count for
    throttling, rate counters of past minutes and done jobs older than a week."""
    now = ctx.clock()
    removed = await delete_expired_sessions(timedelta(minutes=ctx.settings.session_idle_minutes), now)
    attempts = await delete_old_login_attempts(now)
    counters = await delete_old_counters(now)
    done = await jobs.delete_done(jobs.utcnow() - timedelta(days=DONE_KEPT_DAYS))
    log.info("removed %d expired sessions, %d old login attempts, %d rate counters and %d done jobs",
             removed, attempts, counters, done)  # fmt: skip


def handlers() -> dict[str, Handler]:
    """Every kind of job and its handler."""
    return {"mail": send_mail, "expire_holds": expire_holds, "clean_up": clean_up}


def periodic(settings: Settings) -> dict[str, float]:
    """The periodic jobs (their name is their kind) and their intervals in seconds."""
    return {"expire_holds": settings.expire_holds_every_seconds, "clean_up": settings.clean_up_every_seconds}


class Worker:
    """Claims due jobs, up to JOBS_AT_ONCE running at a time, until stopped."""

    def __init__(self, database: TortoiseContext, context: JobContext, kinds: dict[str, Handler], events: Events | None = None) -> None:
        self.id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._database = database
        self._events = events  # where the handlers' changes announce themselves (services/events)
        self._context = context
        self._kinds = kinds
        self._every = periodic(context.settings)
        self._wakeup: asyncio.Event = context.notifier.wakeup
        self._running: set[asyncio.Task] = set()
        self._stopping = False

    async def run(self) -> None:
        with database_context(self._database), publishing(self._events):
            await self._ensure_periodic()
            while not self._stopping:
                self._wakeup.clear()
                free = JOBS_AT_ONCE - len(self._running)
                claimed = await self._claim(free) if free > 0 else []
                for job in claimed:
                    task = asyncio.create_task(self._run_one(job))
                    self._running.add(task)
                    task.add_done_callback(self._done)
                if claimed and len(claimed) == free:
                    continue  # there may be more due
                try:
                    await asyncio.wait_for(self._wakeup.wait(), self._context.settings.job_poll_seconds)
                except TimeoutError:
                    pass

    async def _ensure_periodic(self) -> None:
        while not self._stopping:
            try:
                for name in self._every:
                    await jobs.ensure_periodic(name, name)
                return
            except Exception:  # the database is not reachable yet: try again
                log.exception("could not create the periodic jobs")
                await asyncio.sleep(self._context.settings.job_poll_seconds)

    async def _claim(self, free: int) -> list[Job]:
        try:
            return await jobs.claim(self.id, free, self._context.settings.job_lease_seconds)
        except Exception:  # keep the loop alive through a database hiccup
            log.exception("could not claim jobs")
            return []

    def _done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._wakeup.set()  # a slot is free

    async def _run_one(self, job: Job) -> None:
        every = self._every.get(job.periodic) if job.periodic else None
        try:
            handler = self._kinds.get(job.kind)
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            # Stopped a little before its lease lapses, so that no other worker takes it meanwhile.
            async with asyncio.timeout(self._context.settings.job_lease_seconds * 0.9):
                await handler(self._context, job.payload)
        except asyncio.CancelledError:
            await jobs.release(job)
            raise
        except Exception as exc:
            state = await jobs.fail(job, _error_text(exc), self._context.settings, every)
            log.warning("job %s (%s) failed on try %d, now %s: %s", job.id, job.kind, job.attempts, state, exc)
        else:
            await jobs.finish(job, every)
            log.info("job %s (%s) done on try %d by %s, due at %s", job.id, job.kind, job.attempts, job.locked_by, job.run_at.isoformat())

    async def stop(self, loop_task: asyncio.Task) -> None:
        """Stop claiming; running jobs get STOP_GRACE_SECONDS to finish, the rest are given back."""
        self._stopping = True
        self._wakeup.set()
        await asyncio.wait([loop_task], timeout=STOP_GRACE_SECONDS)
        loop_task.cancel()
        if self._running:
            await asyncio.wait(set(self._running), timeout=STOP_GRACE_SECONDS)
        for task in set(self._running):
            task.cancel()
        await asyncio.gather(*self._running, loop_task, return_exceptions=True)


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip() or type(exc).__name__


def worker_for(app: web.Application) -> Worker:
    context = JobContext(app[NotifierKey], app[SettingsKey], clock=_clock_of(app))
    return Worker(app[DatabaseKey], context, handlers(), app[EventsKey])


def _clock_of(app: web.Application) -> Callable[[], datetime]:
    return lambda: app[ClockKey]()  # read at each call: tests replace the clock after create_app


async def work(app: web.Application):
    """cleanup_ctx: this process's job worker, from start to shutdown."""
    worker = worker_for(app)
    task = asyncio.create_task(worker.run())
    yield
    await worker.stop(task)
