"""Waiting for the job worker of a test's app: mail is sent after the commit, by a job."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from yatri.models import Job, JobState


async def jobs_settled(timeout: float = 5) -> None:
    """Every job asked for so far (periodic ones aside) is done or dead."""
    deadline = time.monotonic() + timeout
    while await Job.filter(periodic__isnull=True, state__in=(JobState.QUEUED, JobState.RUNNING)).exists():
        if time.monotonic() > deadline:
            waiting = await Job.filter(periodic__isnull=True, state__in=(JobState.QUEUED, JobState.RUNNING)).values("kind", "state", "last_error")
            raise AssertionError(f"jobs still waiting after {timeout} s: {waiting}")
        await asyncio.sleep(0.02)


async def outbox_files(var_dir: Path, count: int, timeout: float = 5) -> list[Path]:
    """The development outbox (var/outbox/*.eml) once it holds `count` messages."""
    deadline = time.monotonic() + timeout
    while len(found := sorted((var_dir / "outbox").glob("*.eml"))) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} mail file(s), got {len(found)}")
        await asyncio.sleep(0.02)
    return found


async def periodic_ran(name: str, timeout: float = 5) -> None:
    """The app's worker has run the periodic job `name` once since it started (it runs
    at start): a test that makes rows it deletes waits for this first."""
    deadline = time.monotonic() + timeout
    while not await Job.filter(periodic=name, state=JobState.QUEUED, run_at__gt=datetime.now(UTC)).exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"the periodic job {name} did not run")
        await asyncio.sleep(0.02)
