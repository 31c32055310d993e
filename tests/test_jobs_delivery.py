"""Proof that mail rides on the durable outbox (issue 15): a request never waits on SMTP,
SMTP down then up delivers every mail exactly once, and a worker killed with SIGKILL in
the middle of a mail loses nothing (its lease lapses, another worker sends it)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from datetime import datetime

import aiohttp
import asyncpg

from tests.helpers import PASSWORD, csrf_from
from tests.jobs_helpers import jobs_settled
from tests.live import LiveServer
from tests.smtp import SmtpServer, StallingSmtpServer, free_port
from tests.test_serve_workers import wait_for_app, wait_for_workers
from yatri.app import create_app
from yatri.keys import DatabaseKey
from yatri.models import Job, JobState

# Seconds instead of the real defaults (30 s doubling to an hour), so that a test of
# minutes of outage takes seconds.
FAST = {"job_retry_seconds": 0.1, "job_retry_max_seconds": 0.4, "job_max_attempts": 1000, "job_poll_seconds": 0.1}


def app_mailing_to(settings, port: int, **overrides):
    """An app mailing to 127.0.0.1:port, with tenths of seconds between tries."""
    return create_app(dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}", **{**FAST, **overrides}))


async def sign_up(client, email: str) -> float:
    """Sign up; the seconds the sign-up post took."""
    form = {"name": "Asha Rao", "email": email, "phone": "", "password": PASSWORD, "csrf_token": await csrf_from(client, "/signup")}
    started = time.monotonic()
    response = await client.post("/signup", data=form, allow_redirects=False)
    took = time.monotonic() - started
    assert response.status == 303
    client.session.cookie_jar.clear()  # the next one signs up anew
    return took


async def test_the_signup_mail_arrives_within_a_second(aiohttp_client, settings, smtp_outbox):
    client = await aiohttp_client(app_mailing_to(settings, int(smtp_outbox.url.rsplit(":", 1)[1])))
    await csrf_from(client, "/signup")  # templates compiled
    await sign_up(client, "asha@example.com")
    answered = time.monotonic()
    [mail] = await smtp_outbox.wait_for(1, timeout=2)
    assert time.monotonic() - answered < 1.0  # the worker was woken by the commit, not by its poll
    assert mail["Subject"] == "Confirm your email for Yatri"


async def test_smtp_down_then_up_delivers_every_mail_exactly_once(aiohttp_client, settings):
    port = free_port()  # nothing listens: connection refused
    app = app_mailing_to(settings, port)
    client = await aiohttp_client(app)
    emails = [f"traveller{n}@example.com" for n in range(6)]
    for email in emails:
        await sign_up(client, email)
    await asyncio.sleep(2)  # down for a while: every mail is tried again and again
    with app[DatabaseKey]:
        mails = await Job.filter(kind="mail")
        assert len(mails) == 6 and all(job.state != JobState.DONE for job in mails)
        assert sum(job.attempts for job in mails) > 12 and all("Connect" in (job.last_error or "") for job in mails if job.attempts)
    with SmtpServer(port) as smtp:
        await smtp.outbox.wait_for(6, timeout=10)
        with app[DatabaseKey]:
            await jobs_settled()
            assert await Job.filter(kind="mail", state=JobState.DONE).count() == 6
        await asyncio.sleep(1)  # nothing comes twice
        assert sorted(m["To"] for m in smtp.outbox) == sorted(emails)
        assert len({m["Message-ID"] for m in smtp.outbox}) == 6


async def test_a_stalled_smtp_server_adds_nothing_to_the_signup_time(aiohttp_client, settings):
    """Issue 15 asks for sign-up under 200 ms while SMTP stalls (it took 15 s when the
    request sent the mail). Hashing the password alone takes 0.12 s on this shared
    2-core machine and a sign-up 0.2 to 1 s under the other sessions' load, so the test
    compares: the same app's sign-ups with a working SMTP server, then with one that
    accepts and never answers for SMTP_TIMEOUT_SECONDS (5 s here; sending in the request
    would add those 5 s to each): the second are no slower."""
    with SmtpServer() as working:
        client = await aiohttp_client(app_mailing_to(settings, working.port))
        await sign_up(client, "warm@example.com")  # first request of the app: pages compiled
        normal = sorted([await sign_up(client, f"normal{n}@example.com") for n in range(5)])
        await working.outbox.wait_for(6)
    await client.close()
    async with StallingSmtpServer() as stalled:
        app = app_mailing_to(settings, stalled.port, smtp_timeout_seconds=5)
        client = await aiohttp_client(app)
        stalling = sorted([await sign_up(client, f"traveller{n}@example.com") for n in range(5)])
        for _ in range(100):
            if stalled.connections >= 3:
                break
            await asyncio.sleep(0.05)
        assert stalled.connections >= 3  # the worker was stuck on the server meanwhile
        port = stalled.port
    assert stalling[2] < normal[2] * 1.5 + 0.2 and stalling[-1] < normal[-1] + 2, (normal, stalling)
    with SmtpServer(port) as smtp:  # the server answers again: every stalled mail arrives once
        await smtp.outbox.wait_for(5, timeout=25)
        with app[DatabaseKey]:
            await jobs_settled(10)
        await asyncio.sleep(0.5)
        assert sorted(m["To"] for m in smtp.outbox) == [f"traveller{n}@example.com" for n in range(5)]


async def _pg(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))


async def test_a_worker_killed_in_the_middle_of_a_mail_loses_nothing(shared_database_url, tmp_path):
    """Two gunicorn workers; the one sending the mail (the SMTP server hangs) is killed
    with SIGKILL. Its lease lapses and the other worker sends the mail, once."""
    async with StallingSmtpServer() as stalled:
        env = {"SMTP_URL": stalled.url, "JOB_LEASE_SECONDS": "3", "JOB_POLL_SECONDS": "0.2", "SMTP_TIMEOUT_SECONDS": "30"}
        with LiveServer(shared_database_url, tmp_path / "var", serve_args=("--workers", "2"), **env) as server:
            server.yatri("create-admin", "asha@example.com", input=PASSWORD + "\n")
            workers = wait_for_workers(server.process.pid, 2)
            for pid in workers:
                wait_for_app(pid)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                async with http.get(server.url + "/password-reset") as response:
                    token = (await response.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
                async with http.post(server.url + "/password-reset", data={"email": "asha@example.com", "csrf_token": token}) as response:
                    assert response.status == 200
            db = await _pg(shared_database_url)
            try:
                for _ in range(100):
                    row = await db.fetchrow("SELECT id, state, locked_by FROM jobs WHERE kind = 'mail'")
                    if row and row["state"] == "running" and stalled.connections:
                        break
                    await asyncio.sleep(0.05)
                assert row["state"] == "running", row
                holder = int(row["locked_by"].split(":")[1])
                assert holder in workers
                os.kill(holder, signal.SIGKILL)
                port = stalled.port
                await stalled.__aexit__(None, None, None)
                with SmtpServer(port) as smtp:
                    [mail] = await smtp.outbox.wait_for(1, timeout=15)
                    assert mail["Subject"] == "Reset your Yatri password"
                    for _ in range(50):
                        job = await db.fetchrow("SELECT state, attempts, locked_by FROM jobs WHERE id = $1", row["id"])
                        if job["state"] == "done":
                            break
                        await asyncio.sleep(0.1)
                    assert (job["state"], job["attempts"]) == ("done", 2)
                    await asyncio.sleep(1)
                    assert len(smtp.outbox) == 1
            finally:
                await db.close()
            assert server.process.poll() is None



async def test_two_workers_run_each_interval_of_a_periodic_job_once(shared_database_url, tmp_path):
    """Hold expiry every 0.5 s with two gunicorn workers polling every 0.05 s: each planned
    run (its due time) is run once, by whichever worker, and they are one interval apart;
    over the window there are as many runs as intervals, not twice as many."""
    env = {"EXPIRE_HOLDS_EVERY_SECONDS": "0.5", "JOB_POLL_SECONDS": "0.05"}
    with LiveServer(shared_database_url, tmp_path / "var", serve_args=("--workers", "2"), **env) as server:
        for pid in wait_for_workers(server.process.pid, 2):
            wait_for_app(pid)
        await asyncio.sleep(5)
        log = server.output()
    runs = [line for line in log.splitlines() if "(expire_holds) done" in line]
    due = [datetime.fromisoformat(line.rsplit("due at ", 1)[1]) for line in runs]
    assert len(runs) >= 8, log[-2000:]
    assert len(set(due)) == len(due)  # no planned run ran twice
    steps = [round((b - a).total_seconds(), 3) for a, b in zip(sorted(due), sorted(due)[1:])]
    # One interval apart (more when a run was late and the next one waited for it).
    assert min(steps) >= 0.5, steps
