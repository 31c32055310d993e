"""services/jobs.py and the worker: claiming once (SKIP LOCKED on PostgreSQL), leases that
lapse, backoff with jitter, the dead state, periodic jobs and the operator's retry."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from tests.helpers import make_user
from yatri import jobs as worker_module
from yatri.app import create_app
from yatri.db import database_context, open_database
from yatri.errors import Conflict
from yatri.keys import NotifierKey
from yatri.models import AuditLog, Job, JobState
from yatri.services import jobs
from yatri.services.jobs import JobContext, backoff_seconds, utcnow


@pytest.fixture
async def db(settings):
    """The database alone: no app, so no worker of its own takes the test's jobs."""
    ctx = await open_database(settings)
    with database_context(ctx):
        yield ctx
    await ctx.close_connections()


async def queue(count: int, kind: str = "noop", **fields) -> list[Job]:
    return [await Job.create(kind=kind, payload={"n": n}, run_at=utcnow() - timedelta(seconds=1), **fields) for n in range(count)]


def test_backoff_doubles_up_to_the_cap_with_jitter():
    assert [backoff_seconds(n, 30, 3600, rand=lambda: 0.999999) for n in (1, 2, 3)] == pytest.approx([30, 60, 120], rel=1e-5)
    assert backoff_seconds(1, 30, 3600, rand=lambda: 0.0) == 15  # at least half
    assert backoff_seconds(20, 30, 3600, rand=lambda: 0.999999) == pytest.approx(3600, rel=1e-5)
    spread = {round(backoff_seconds(4, 30, 3600), 3) for _ in range(50)}
    assert len(spread) > 40 and all(120 <= s < 240 for s in spread)


async def test_concurrent_claims_take_each_job_once(db):
    await queue(30)
    batches = await asyncio.gather(*(jobs.claim(f"w{n}", 4, 60) for n in range(10)))
    ids = [job.id for batch in batches for job in batch]
    assert len(ids) == len(set(ids)) == 30
    assert await Job.filter(state=JobState.RUNNING, attempts=1).count() == 30
    assert await jobs.claim("late", 10, 60) == []


async def test_a_lapsed_lease_passes_the_job_on_and_the_first_worker_cannot_finish_it(db):
    [queued] = await queue(1)
    [first] = await jobs.claim("a", 1, 0.2)
    assert first.id == queued.id and await jobs.claim("b", 1, 60) == []  # leased to a
    await asyncio.sleep(0.3)
    [second] = await jobs.claim("b", 1, 60)
    assert second.id == queued.id and second.attempts == 2
    await jobs.finish(first)  # a comes back late: not its job any more
    assert (await Job.get(id=queued.id)).locked_by == "b"
    await jobs.finish(second)
    row = await Job.get(id=queued.id)
    assert (row.state, row.locked_by, row.locked_until) == (JobState.DONE, None, None)


async def test_failures_back_off_then_the_job_is_dead(db, settings):
    settings = dataclasses.replace(settings, job_retry_seconds=10, job_retry_max_seconds=15)
    [job] = await queue(1, max_attempts=3)
    for attempt in (1, 2):
        [claimed] = await jobs.claim("a", 1, 60)
        before = utcnow()
        assert await jobs.fail(claimed, "SMTPConnectError: refused", settings) == JobState.QUEUED
        row = await Job.get(id=job.id)
        wait = (row.run_at - before).total_seconds()
        assert row.attempts == attempt and row.last_error == "SMTPConnectError: refused"
        assert (5 <= wait <= 10.5) if attempt == 1 else (7.5 <= wait <= 15.5)
        assert await jobs.claim("a", 1, 60) == []  # not due yet
        await Job.filter(id=job.id).update(run_at=utcnow())
    [claimed] = await jobs.claim("a", 1, 60)
    assert await jobs.fail(claimed, "still refused", settings) == JobState.DEAD
    row = await Job.get(id=job.id)
    assert (row.state, row.attempts, row.last_error) == (JobState.DEAD, 3, "still refused")
    assert await jobs.claim("a", 1, 60) == []


async def test_a_job_whose_worker_died_on_its_last_try_is_dead(db):
    [job] = await queue(1, max_attempts=1)
    await jobs.claim("killed", 1, 0.1)
    await asyncio.sleep(0.2)
    assert await jobs.claim("b", 1, 60) == []
    row = await Job.get(id=job.id)
    assert row.state == JobState.DEAD and "stopped" in row.last_error


async def test_a_periodic_job_comes_back_one_interval_later_and_is_never_dead(db, settings):
    await jobs.ensure_periodic("tick", "tick")
    await jobs.ensure_periodic("tick", "tick")  # a second process starting: still one row
    [row] = await Job.filter(periodic="tick")
    planned = row.run_at
    [claimed] = await jobs.claim("a", 5, 60)
    await jobs.finish(claimed, every_seconds=30)
    row = await Job.get(id=row.id)
    assert row.state == JobState.QUEUED and row.run_at == planned + timedelta(seconds=30) and row.attempts == 0
    await Job.filter(id=row.id).update(run_at=utcnow(), attempts=row.max_attempts)
    [claimed] = await jobs.claim("a", 5, 60)
    assert await jobs.fail(claimed, "boom", settings, every_seconds=30) == JobState.QUEUED
    row = await Job.get(id=row.id)
    assert row.last_error == "boom" and row.run_at <= utcnow() + timedelta(seconds=30)


async def test_the_operator_retries_a_dead_job_with_fresh_tries_and_an_audit_row(db):
    admin = await make_user("ops@example.com", role="admin")
    [job] = await queue(1, state=JobState.DEAD, attempts=12, last_error="refused")
    retried = await jobs.retry(job.id, admin)
    assert (retried.state, retried.attempts) == (JobState.QUEUED, 0) and retried.run_at <= utcnow()
    audit = await AuditLog.get(entity="job", entity_id=str(job.id))
    assert (audit.action, audit.from_state, audit.to_state, audit.actor_id) == ("retried", "dead", "queued", admin.id)
    await Job.filter(id=job.id).update(state=JobState.DONE)
    with pytest.raises(Conflict):
        await jobs.retry(job.id, admin)


async def test_backlog_counts_due_jobs_and_the_oldest_wait(db):
    await queue(2)
    await Job.create(kind="later", payload={}, run_at=utcnow() + timedelta(hours=1))
    await queue(1, state=JobState.DEAD)
    backlog = await jobs.backlog()
    assert backlog.due == 2 and backlog.by_state == {"queued": 3, "running": 0, "done": 0, "dead": 1}
    assert 1 <= backlog.oldest_due_seconds < 30


# ---------------------------------------------------------------- the worker


def worker_with(app, db, settings, kinds) -> worker_module.Worker:
    context = JobContext(app[NotifierKey], settings, clock=utcnow)
    return worker_module.Worker(db, context, kinds)


async def test_the_worker_retries_a_failing_handler_until_it_succeeds(db, settings):
    settings = dataclasses.replace(settings, job_retry_seconds=0.05, job_retry_max_seconds=0.1, job_poll_seconds=0.05)
    calls = []

    async def flaky(ctx, payload):
        calls.append(payload["n"])
        if len(calls) < 3:
            raise OSError("mail server down")

    [job] = await queue(1, kind="flaky")
    worker = worker_with(create_app(settings), db, settings, {"flaky": flaky})
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(200):
            if (row := await Job.get(id=job.id)).state == JobState.DONE:
                break
            await asyncio.sleep(0.02)
    finally:
        await worker.stop(task)
    assert calls == [0, 0, 0] and (row.state, row.attempts, row.last_error) == (JobState.DONE, 3, None)


async def test_a_job_of_an_unknown_kind_fails_with_a_clear_error(db, settings):
    settings = dataclasses.replace(settings, job_poll_seconds=0.05)
    [job] = await queue(1, kind="nobody-handles-this", max_attempts=1)
    worker = worker_with(create_app(settings), db, settings, {})
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(200):
            if (row := await Job.get(id=job.id)).state == JobState.DEAD:
                break
            await asyncio.sleep(0.02)
    finally:
        await worker.stop(task)
    assert row.state == JobState.DEAD and "no handler for jobs of kind 'nobody-handles-this'" in row.last_error


async def test_a_stopping_worker_gives_back_a_job_that_does_not_finish(db, settings, monkeypatch):
    monkeypatch.setattr(worker_module, "STOP_GRACE_SECONDS", 0.2)
    settings = dataclasses.replace(settings, job_poll_seconds=0.05)
    started = asyncio.Event()

    async def forever(ctx, payload):
        started.set()
        await asyncio.sleep(60)

    [job] = await queue(1, kind="forever")
    worker = worker_with(create_app(settings), db, settings, {"forever": forever})
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 5)
    await worker.stop(task)
    row = await Job.get(id=job.id)
    assert (row.state, row.attempts, row.locked_by) == (JobState.QUEUED, 0, None)
    [again] = await jobs.claim("next", 1, 60)  # due at once for the next worker
    assert again.id == job.id


async def test_a_job_running_past_its_lease_is_stopped_and_retried(db, settings):
    settings = dataclasses.replace(settings, job_lease_seconds=0.2, job_poll_seconds=0.05, job_retry_seconds=30)
    [job] = await queue(1, kind="slow")

    async def slow(ctx, payload):
        await asyncio.sleep(5)

    worker = worker_with(create_app(settings), db, settings, {"slow": slow})
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(100):
            if (row := await Job.get(id=job.id)).last_error:
                break
            await asyncio.sleep(0.02)
    finally:
        await worker.stop(task)
    assert row.state == JobState.QUEUED and row.attempts == 1 and "TimeoutError" in row.last_error
