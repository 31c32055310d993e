"""Mails per second through the job outbox, against a local SMTP server.

    .venv/bin/python bench/jobs.py [--mails 500] [--workers 1]

Writes `--mails` mail jobs in one change (as a busy hour of sign-ups and bookings would,
each rendered from its template), then starts `--workers` `yatri work` processes on the
same database (DATABASE_URL; default a fresh SQLite file under var/bench, where one
worker is the supported set-up) mailing to a local aiosmtpd server (tests/smtp.py), and
times until every job is done. Prints mails per second and checks that each mail arrived
exactly once. Exit status 1 when one was lost or came twice.

`measure()` is also what tests/test_bench.py runs (a few mails).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class JobsResult:
    mails: int
    workers: int
    seconds: float
    received: int
    distinct: int  # distinct Message-IDs received

    @property
    def per_second(self) -> float:
        return self.mails / self.seconds if self.seconds else 0.0

    @property
    def exactly_once(self) -> bool:
        return self.received == self.distinct == self.mails


async def queue_mails(database_url: str, var: Path, count: int) -> None:
    """`count` mail jobs written in one change, as the services write them."""
    from yatri.app import create_app
    from yatri.db import open_database
    from yatri.keys import NotifierKey
    from yatri.services.notify import Mail, change
    from yatri.settings import Settings

    settings = Settings(database_url=database_url, var_dir=var)
    notifier = create_app(settings)[NotifierKey]  # the app's templates, no server started
    ctx = await open_database(settings)
    with ctx:
        tag = uuid.uuid4().hex[:6]
        async with change(notifier) as out:
            for n in range(count):
                out.add(Mail(f"bench{n}-{tag}@example.com", f"Bench {n}", "email/test.txt", {"name": f"Bench {n}", "amount": 100 * n}))
    await ctx.close_connections()


async def wait_until_sent(database_url: str, processes: list[subprocess.Popen]) -> None:
    from yatri.db import open_database
    from yatri.models import Job, JobState
    from yatri.settings import Settings

    ctx = await open_database(Settings(database_url=database_url))
    try:
        with ctx:
            while await Job.filter(kind="mail", state__in=(JobState.QUEUED, JobState.RUNNING)).exists():
                if any(p.poll() is not None for p in processes):
                    raise RuntimeError("yatri work exited; see var/bench/work-*.log")
                await asyncio.sleep(0.1)
    finally:
        await ctx.close_connections()


def _work(database_url: str, var: Path, smtp_url: str) -> tuple[subprocess.Popen, Path]:
    env = {**os.environ, "DATABASE_URL": database_url, "YATRI_VAR_DIR": str(var), "SMTP_URL": smtp_url, "JOB_POLL_SECONDS": "0.2"}
    path = var / f"work-{uuid.uuid4().hex[:6]}.log"
    process = subprocess.Popen([str(BIN / "yatri"), "work"], env=env, stdout=path.open("w"), stderr=subprocess.STDOUT)
    return process, path


async def _started(process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while "job worker running" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"yatri work did not start: {log.read_text()[-2000:]}")
        await asyncio.sleep(0.05)


async def measure(database_url: str, var: Path, mails: int, workers: int = 1) -> JobsResult:
    """Queue the mails, then time `workers` `yatri work` processes sending them all."""
    sys.path.insert(0, str(ROOT))
    from tests.smtp import SmtpServer

    with SmtpServer() as smtp:
        started_workers = [_work(database_url, var, smtp.url) for _ in range(workers)]
        processes = [process for process, _ in started_workers]
        try:
            for process, log in started_workers:
                await _started(process, log)
            started = time.perf_counter()  # from the change that writes the mails to the last one sent
            await queue_mails(database_url, var, mails)
            await wait_until_sent(database_url, processes)
            seconds = time.perf_counter() - started
            await asyncio.sleep(0.5)  # anything sent twice would arrive now
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)
        received = [m for m in smtp.outbox if m["Subject"].startswith("Bench ")]
        return JobsResult(mails, workers, seconds, len(received), len({m["Message-ID"] for m in received}))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1, help="yatri work processes (several need PostgreSQL)")
    args = parser.parse_args()
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL", f"sqlite://{var / f'jobs-{uuid.uuid4().hex[:6]}.sqlite3'}")
    subprocess.run([str(BIN / "yatri"), "migrate"], env={**os.environ, "DATABASE_URL": database_url}, check=True, stdout=subprocess.DEVNULL)
    result = await measure(database_url, var, args.mails, args.workers)
    print(f"job outbox: {result.mails} mails, {result.workers} worker process(es), {database_url.split(':')[0]}, local SMTP server")
    print(f"  all sent in {result.seconds:.2f} s: {result.per_second:.0f} mails/s")
    print(f"  received {result.received}, distinct Message-IDs {result.distinct}")
    print(f"  {'PASS' if result.exactly_once else 'FAIL'}  every mail exactly once")
    return 0 if result.exactly_once else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(asyncio.run(main()))
