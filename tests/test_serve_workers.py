"""`yatri serve --workers N`: gunicorn's master with N aiohttp workers on PostgreSQL,
restarted by SIGHUP, stopped by SIGTERM without dropping the request in flight, and a
worker killed with SIGKILL replaced by a fresh one (the master never imports the app); SQLite
says it serves with one process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time
from pathlib import Path

import aiohttp

from tests.helpers import PASSWORD
from tests.live import LiveServer
from tests.smtp import Outbox, SmtpServer

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def worker_pids(master: int) -> set[int]:
    """The master's child processes, read from /proc."""
    children = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:  # the process ended while we looked
            continue
        if int(fields.get("PPid", "0")) == master:
            children.add(int(status.parent.name))
    return children


def wait_for_workers(master: int, count: int, other_than: set[int] = frozenset()) -> set[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pids = worker_pids(master) - other_than
        if len(pids) == count and not worker_pids(master) & other_than:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"expected {count} workers, have {worker_pids(master)} (old: {other_than})")


async def test_two_workers_answer_and_sighup_replaces_them(shared_database_url, tmp_path):
    with LiveServer(shared_database_url, tmp_path / "var", serve_args=("--workers", "2")) as server:
        master = server.process.pid
        first = wait_for_workers(master, 2)
        async with aiohttp.ClientSession() as http:

            async def get(n: int) -> int:
                async with http.get(server.url + ("/trips" if n % 2 else "/readyz")) as response:
                    return response.status

            assert await asyncio.gather(*(get(n) for n in range(60))) == [200] * 60
            os.kill(master, signal.SIGHUP)
            second = wait_for_workers(master, 2, other_than=first)
            assert not first & second
            assert await asyncio.gather(*(get(n) for n in range(20))) == [200] * 20
        server.process.terminate()
        assert server.process.wait(20) == 0


class StalledOutbox(Outbox):
    """An SMTP server that takes STALL seconds to accept each message."""

    STALL = 3

    def __init__(self) -> None:
        super().__init__()
        self.receiving = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()
        await asyncio.sleep(self.STALL)
        return await super().handle_DATA(server, session, envelope)


async def test_sigterm_lets_the_mail_job_in_flight_finish(shared_database_url, tmp_path):
    """The request answers at once (its mail is a job); SIGTERM while the worker is handing
    the mail to a slow server waits for it, and the mail is delivered once."""
    smtp = SmtpServer()
    smtp.outbox = smtp._controller.handler = StalledOutbox()
    with smtp, LiveServer(shared_database_url, tmp_path / "var", serve_args=("--workers", "2"), SMTP_URL=smtp.url) as server:
        server.yatri("create-admin", "asha@example.com", input=PASSWORD + "\n")
        master = server.process.pid
        workers = wait_for_workers(master, 2)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(server.url + "/password-reset") as response:
                token = _CSRF.search(await response.text()).group(1)
            data = {"email": "asha@example.com", "csrf_token": token}
            started = time.monotonic()
            async with http.post(server.url + "/password-reset", data=data) as response:
                assert response.status == 200
            assert time.monotonic() - started < StalledOutbox.STALL - 1  # the request did not wait for SMTP
        # The job is in flight once the server is handing the mail over.
        assert await asyncio.to_thread(smtp.outbox.receiving.wait, 10)
        started = time.monotonic()
        server.process.terminate()
        assert await asyncio.to_thread(server.process.wait, 20) == 0
        assert time.monotonic() - started >= StalledOutbox.STALL - 1  # it waited for the mail
        assert not worker_pids(master) and all(not Path(f"/proc/{pid}").exists() for pid in workers)
        assert len(smtp.outbox.to("asha@example.com")) == 1
        assert "Traceback" not in server.output()


def test_sqlite_serves_with_one_process_and_says_so(tmp_path):
    server = LiveServer(f"sqlite://{tmp_path / 'yatri.sqlite3'}", tmp_path / "var", serve_args=("--workers", "2"))
    server.yatri("migrate")
    with server:
        assert "SQLite supports one server process; serving with 1 worker, not 2" in server.output()
        assert worker_pids(server.process.pid) == set()  # no gunicorn master: this process serves


def loaded_libraries(pid: int) -> str:
    """The files a process has mapped: its shared libraries, Python's compiled modules too."""
    return Path(f"/proc/{pid}/maps").read_text()


def wait_for_app(pid: int) -> None:
    """A worker has built its app once it has loaded Pillow (media) and asyncpg."""
    deadline = time.monotonic() + 20
    while not ("/PIL/" in loaded_libraries(pid) and "/asyncpg/" in loaded_libraries(pid)):
        assert time.monotonic() < deadline, f"worker {pid} did not build the app"
        time.sleep(0.1)


async def test_a_killed_worker_is_replaced_and_the_service_keeps_answering(shared_database_url, tmp_path):
    with LiveServer(shared_database_url, tmp_path / "var", serve_args=("--workers", "2")) as server:
        master = server.process.pid
        workers = wait_for_workers(master, 2)
        for pid in workers:
            wait_for_app(pid)
        # The master has not imported the app: a replacement worker cannot inherit its state.
        assert "/PIL/" not in loaded_libraries(master) and "/asyncpg/" not in loaded_libraries(master)
        killed = min(workers)
        async with aiohttp.ClientSession() as http:

            async def get(path: str) -> int:
                async with http.get(server.url + path) as response:
                    return response.status

            os.kill(killed, signal.SIGKILL)
            assert await asyncio.gather(*(get("/trips" if n % 2 else "/readyz") for n in range(40))) == [200] * 40
            replacement = wait_for_workers(master, 2, other_than={killed}) - workers
            assert len(replacement) == 1
            wait_for_app(replacement.pop())
            assert await asyncio.gather(*(get("/readyz") for _ in range(20))) == [200] * 20
        assert server.process.poll() is None  # the master lives on
