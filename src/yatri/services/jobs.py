"""Durable jobs: a transactional outbox in the `jobs` table, run by a worker in every process.

Asking for work. A change writes its follow-ups as job rows inside its own transaction,
so they exist exactly when the change committed (never for one that rolled back):

    async with notify.change(notifier) as out:
        ...                                    # the change itself
        out.add(await booking_mail(b, "held"))  # a mail: a job of kind "mail"
        out.enqueue("balance_reminder", {"booking": b.reference}, run_at=when)

`enqueue(kind, payload, run_at=None)` takes a JSON-safe payload (ids and references, not
model objects: it is checked at once) and an optional time (UTC) before which the job
must not run; by default it runs right after the commit (the committing process's worker
is woken; the others look every JOB_POLL_SECONDS).

Running work. A handler is `async def handler(ctx: JobContext, payload: dict) -> None`,
listed by kind in `yatri.jobs.handlers()`. It raises to fail: the job is tried again
after JOB_RETRY_SECONDS, doubled each time up to JOB_RETRY_MAX_SECONDS, with jitter, and
is `dead` after JOB_MAX_ATTEMPTS tries; the operator sees dead jobs at /admin/jobs and can
retry them. A job may run more than once (its worker died after the work but before
marking it done, or ran longer than JOB_LEASE_SECONDS), so a handler must be idempotent:
check the state it acts on (a reminder for a booking that is paid already does nothing).
A handler that changes rows and mails opens its own `notify.change(ctx.notifier)`.

Claiming. `claim` takes due jobs with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL,
so any number of processes and machines share the queue and each job is claimed once; on
SQLite (one process) the database's write lock does it. A claim is a lease: state
`running`, `locked_by` the worker, `locked_until` now + JOB_LEASE_SECONDS. A job whose
worker was killed is due again once its lease lapses.

Periodic jobs (hold expiry, clean-up) are rows with a `periodic` name, created once by
whichever process starts first; the worker that runs one puts it back in the queue for
its next interval, so each interval runs once across all processes.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound
from yatri.models import Job, JobState, User
from yatri.services.audit import record
from yatri.settings import Settings

log = logging.getLogger("yatri.jobs")

ERROR_CHARS = 2000  # of the last error kept on the row


@dataclass(frozen=True)
class NewJob:
    kind: str
    payload: dict[str, Any]
    run_at: datetime | None = None


def new_job(kind: str, payload: dict[str, Any], run_at: datetime | None = None) -> NewJob:
    """A job to write; TypeError at once when the payload is not JSON-safe."""
    json.dumps(payload)
    if run_at is not None and run_at.tzinfo is None:
        raise TypeError("run_at must be an aware datetime (UTC)")
    return NewJob(kind, payload, run_at)


@dataclass(frozen=True)
class JobContext:
    """What a handler may use: the notifier (for a `notify.change`), the settings, and
    the app's clock for the business rules (job timing itself is on the real clock)."""

    notifier: Any  # notify.Notifier (not imported: notify imports this module)
    settings: Settings
    clock: Callable[[], datetime]


Handler = Callable[[JobContext, dict], Awaitable[None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


async def write(jobs: list[NewJob], max_attempts: int) -> None:
    """Insert the jobs in the current transaction (notify.change calls this)."""
    if jobs:
        now = utcnow()
        await Job.bulk_create([Job(kind=j.kind, payload=j.payload, run_at=j.run_at or now, max_attempts=max_attempts) for j in jobs])


# ---------------------------------------------------------------- claiming and finishing


async def claim(worker: str, limit: int, lease_seconds: float, now: datetime | None = None) -> list[Job]:
    """Up to `limit` due jobs (queued and due, or running with a lapsed lease), oldest
    first, now leased to `worker`. A lapsed job that has used all its tries is dead."""
    now = now or utcnow()
    due = Q(state=JobState.QUEUED, run_at__lte=now) | Q(state=JobState.RUNNING, locked_until__lt=now)
    async with in_transaction() as conn:
        query = Job.filter(due).order_by("run_at", "id").limit(limit).using_db(conn)
        if conn.capabilities.dialect == "sqlite":
            # The write lock first (as locks.py does): no other writer between read and update.
            await conn.execute_query("UPDATE jobs SET id = id WHERE 0")
            found = list(await query)
        else:
            found = list(await query.select_for_update(skip_locked=True))
        spent = [job for job in found if job.state == JobState.RUNNING and job.attempts >= job.max_attempts]
        if spent:
            await _bury(conn, spent, now)
        claimed = [job for job in found if job not in spent]
        until = now + timedelta(seconds=lease_seconds)
        if claimed:
            await Job.filter(id__in=[job.id for job in claimed]).using_db(conn).update(
                state=JobState.RUNNING, locked_by=worker, locked_until=until, attempts=F("attempts") + 1, updated_at=now
            )
    for job in claimed:
        job.state, job.locked_by, job.locked_until, job.attempts = JobState.RUNNING, worker, until, job.attempts + 1
    return claimed


async def _bury(conn, jobs: list[Job], now: datetime) -> None:
    for job in jobs:
        log.error("job %s (%s) is dead: its worker was lost on its last try", job.id, job.kind)
    await Job.filter(id__in=[job.id for job in jobs], periodic__isnull=True).using_db(conn).update(
        state=JobState.DEAD, locked_by=None, locked_until=None, updated_at=now,
        last_error="the worker running it stopped (killed or timed out) on its last try",
    )  # fmt: skip
    # A periodic job is never dead: its next interval runs with fresh tries.
    await Job.filter(id__in=[job.id for job in jobs], periodic__isnull=False).using_db(conn).update(
        state=JobState.QUEUED, locked_by=None, locked_until=None, attempts=0, run_at=now, updated_at=now
    )


def _mine(job: Job) -> Any:
    """The job's row while this worker still holds it (a lapsed lease may have passed it on)."""
    return Job.filter(id=job.id, locked_by=job.locked_by, state=JobState.RUNNING)


async def finish(job: Job, every_seconds: float | None = None, now: datetime | None = None) -> None:
    """The job ran: done, or a periodic job queued for its next interval."""
    now = now or utcnow()
    if every_seconds is None:
        await _mine(job).update(state=JobState.DONE, locked_by=None, locked_until=None, last_error=None, updated_at=now)
        return
    await _mine(job).update(
        state=JobState.QUEUED, locked_by=None, locked_until=None, attempts=0, updated_at=now,
        run_at=_next_run(job.run_at, every_seconds, now),
    )  # fmt: skip


def _next_run(last: datetime, every_seconds: float, now: datetime) -> datetime:
    """One interval after the last planned run, or now when the process was down longer."""
    return max(last + timedelta(seconds=every_seconds), now)


def backoff_seconds(attempts: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Before try `attempts + 1`: base doubled per try so far, at most cap, times a
    random factor in [0.5, 1) so that jobs failing together do not retry together."""
    return min(cap, base * 2 ** (attempts - 1)) * (0.5 + rand() / 2)


async def fail(job: Job, error: str, settings: Settings, every_seconds: float | None = None, now: datetime | None = None) -> JobState:
    """The job raised: queued again after a backoff, or dead after its last try (a
    periodic job waits at most its interval and is never dead)."""
    now = now or utcnow()
    error = error[-ERROR_CHARS:]
    delay = backoff_seconds(job.attempts, settings.job_retry_seconds, settings.job_retry_max_seconds)
    if every_seconds is not None:
        state, delay = JobState.QUEUED, min(delay, every_seconds)
    else:
        state = JobState.DEAD if job.attempts >= job.max_attempts else JobState.QUEUED
    await _mine(job).update(
        state=state, locked_by=None, locked_until=None, last_error=error, updated_at=now,
        run_at=now + timedelta(seconds=delay) if state == JobState.QUEUED else job.run_at,
    )  # fmt: skip
    return state


async def release(job: Job, now: datetime | None = None) -> None:
    """A worker that stops before the job finished gives it back at once, keeping the try
    (its lease would have lapsed anyway)."""
    now = now or utcnow()
    await _mine(job).update(state=JobState.QUEUED, locked_by=None, locked_until=None, run_at=now, updated_at=now,
                            attempts=F("attempts") - 1)  # fmt: skip


# ---------------------------------------------------------------- periodic jobs


async def ensure_periodic(name: str, kind: str, now: datetime | None = None) -> None:
    """The periodic job `name` exists (first run now); a process starting beside others
    that created it already changes nothing."""
    if await Job.exists(periodic=name):
        return
    try:
        async with in_transaction():
            await Job.create(periodic=name, kind=kind, payload={}, run_at=now or utcnow())
    except IntegrityError:
        pass  # another process created it at the same moment


# ---------------------------------------------------------------- the operator


async def retry(job_id: int, actor: User | None, now: datetime | None = None) -> Job:
    """A dead (or waiting) job queued to run at once with fresh tries; audited."""
    now = now or utcnow()
    async with in_transaction() as conn:
        found = Job.filter(id=job_id).using_db(conn)
        job = await (found if conn.capabilities.dialect == "sqlite" else found.select_for_update()).first()
        if job is None:
            raise NotFound("No such job.")
        if job.state not in (JobState.DEAD, JobState.QUEUED):
            raise Conflict(f"This job is {job.state} and cannot be retried.")
        before = job.state
        await Job.filter(id=job.id).using_db(conn).update(
            state=JobState.QUEUED, attempts=0, run_at=now, locked_by=None, locked_until=None, updated_at=now
        )
        await record("job", job.id, "retried", before, JobState.QUEUED, actor=actor, data={"kind": job.kind})
    return await Job.get(id=job_id)


async def listing(states: tuple[JobState, ...] = (JobState.DEAD, JobState.QUEUED, JobState.RUNNING), limit: int = 100) -> list[Job]:
    """Jobs to show the operator: dead ones first, then by when they run."""
    jobs = await Job.filter(state__in=states).order_by("run_at", "id").limit(limit)
    order = {state: index for index, state in enumerate(states)}
    return sorted(jobs, key=lambda job: order[job.state])


@dataclass(frozen=True)
class Backlog:
    by_state: dict[str, int]  # every state, zero included
    due: int  # queued jobs whose time has come, not yet claimed: the backlog
    oldest_due_seconds: float  # how long the oldest of those has waited, 0 when none


async def backlog(now: datetime | None = None) -> Backlog:
    now = now or utcnow()
    counts = dict(await Job.annotate(n=Count("id")).group_by("state").values_list("state", "n"))
    due = Job.filter(state=JobState.QUEUED, run_at__lte=now)
    oldest = await due.order_by("run_at").first().values_list("run_at", flat=True)
    return Backlog(
        by_state={state.value: counts.get(state.value, 0) for state in JobState},
        due=await due.count(),
        oldest_due_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
    )


async def delete_done(before: datetime) -> int:
    """Done jobs finished before `before` (the clean-up keeps a week of them)."""
    return await Job.filter(state=JobState.DONE, updated_at__lt=before).delete()
