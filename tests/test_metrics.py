"""/metrics: only for a bearer METRICS_TOKEN or a client in METRICS_ALLOW (behind a
trusted proxy too), with the business numbers read from the database at scrape time and
the time of the last backup."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import urllib.request
from datetime import timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from yatri.app import create_app
from yatri.keys import ClockKey, DatabaseKey
from yatri.models import BookingStatus, Job, Payment
from yatri.services.jobs import utcnow
from yatri.services.monitoring import record_backup

from tests.helpers import Clock
from tests.jobs_helpers import periodic_ran
from tests.live import LiveServer
from tests.payments_data import NOW, held_booking, submitted_payment
from tests.test_serve_workers import wait_for_app, wait_for_workers

TOKEN = "metrics-token-0123456789abcdef"


def samples(text: str) -> dict[tuple, float]:
    """{(name, (label, value), ...): value} of a Prometheus text page."""
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def client_for(aiohttp_client, settings, clock=None, **changes):
    app = create_app(dataclasses.replace(settings, **changes))
    app[ClockKey] = clock or Clock()
    client = await aiohttp_client(app)
    return client, app


async def test_business_numbers_come_from_the_database(aiohttp_client, settings):
    client, app = await client_for(aiohttp_client, settings, Clock(NOW + timedelta(hours=25)))
    with app[DatabaseKey]:
        await held_booking(expires_in=timedelta(hours=30))  # still open 25 hours on
        await held_booking(expires_in=timedelta(minutes=15))  # lapsed, not yet marked expired
        waiting = await held_booking()
        await submitted_payment(waiting, "412345678901")  # submitted at NOW: 25 hours ago
        newer = await submitted_payment(await held_booking(), "412345678902")
        await Payment.filter(id=newer.id).update(submitted_at=NOW + timedelta(hours=24))
        await held_booking(status=BookingStatus.CONFIRMED)
    response = await client.get("/metrics")
    assert response.status == 200
    found = samples(await response.text())
    assert found[("yatri_bookings", ("status", "held"))] == 2
    assert found[("yatri_bookings", ("status", "payment_submitted"))] == 2
    assert found[("yatri_bookings", ("status", "confirmed"))] == 1
    assert found[("yatri_bookings", ("status", "refunded"))] == 0
    assert found[("yatri_payments_waiting_verification",)] == 2
    assert found[("yatri_payment_oldest_waiting_seconds",)] == 25 * 3600
    # submitted payments hold their seats 48 hours from NOW: open, like the first hold
    assert found[("yatri_holds", ("state", "open"))] == 3
    assert found[("yatri_holds", ("state", "lapsed"))] == 1
    assert found[("yatri_ready",)] == 1
    assert ("yatri_backup_last_success_timestamp_seconds",) not in found  # never backed up
    assert found[("process_resident_memory_bytes",)] > 0


async def test_job_backlog_dead_jobs_and_the_oldest_wait(aiohttp_client, settings):
    # The worker polls once an hour here: after its first round, rows written straight
    # to the table (not by a change, which would wake it) stay where they are.
    client, app = await client_for(aiohttp_client, settings, job_poll_seconds=3600)
    with app[DatabaseKey]:
        await periodic_ran("expire_holds")
        await periodic_ran("clean_up")
        for state in ("dead", "dead", "done"):
            await Job.create(kind="mail", payload={}, run_at=utcnow(), state=state)
        await Job.create(kind="mail", payload={}, run_at=utcnow() - timedelta(minutes=10), state="running",
                         locked_by="other:1:abc", locked_until=utcnow() + timedelta(minutes=5))  # fmt: skip
        await Job.create(kind="mail", payload={}, run_at=utcnow() - timedelta(minutes=3))  # due, waiting
        await Job.create(kind="mail", payload={}, run_at=utcnow() + timedelta(hours=2))  # planned
    found = samples(await (await client.get("/metrics")).text())
    assert found[("yatri_jobs_dead",)] == 2
    assert found[("yatri_jobs", ("state", "dead"))] == 2 and found[("yatri_jobs", ("state", "running"))] == 1
    assert found[("yatri_jobs", ("state", "queued"))] == 4  # the two periodic ones, the due one, the planned one
    assert found[("yatri_jobs_backlog",)] == 1
    assert 180 <= found[("yatri_job_oldest_due_seconds",)] < 240


async def test_the_last_backup_is_reported(aiohttp_client, settings, tmp_path):
    archive = tmp_path / "yatri.tar"
    archive.write_bytes(b"x" * 1234)
    record_backup(settings.var_dir, archive, NOW)
    client, _ = await client_for(aiohttp_client, settings)
    found = samples(await (await client.get("/metrics")).text())
    assert found[("yatri_backup_last_success_timestamp_seconds",)] == NOW.timestamp()
    assert found[("yatri_backup_last_size_bytes",)] == 1234


async def test_only_allowed_addresses_without_a_token(aiohttp_client, settings):
    client, _ = await client_for(aiohttp_client, settings, metrics_allow=("10.0.0.0/8",))
    refused = await client.get("/metrics")
    assert refused.status == 403 and "yatri_http_requests" not in await refused.text()
    assert "Metrics are only for the addresses in METRICS_ALLOW." in await refused.text()


async def test_a_bearer_token_from_anywhere(aiohttp_client, settings):
    client, _ = await client_for(aiohttp_client, settings, metrics_allow=(), metrics_token=TOKEN)
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
    for sent in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN + "x"}, {"Authorization": "Bearer \u00e9"}):
        refused = await client.get("/metrics", headers=sent)
        assert refused.status == 401, sent
        assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="yatri"')


async def test_loopback_does_not_let_a_proxied_client_in(aiohttp_client, settings):
    """Behind a trusted proxy on loopback the client is the forwarded address, not the
    proxy's: an outside client through the proxy is refused."""
    client, _ = await client_for(aiohttp_client, settings, trusted_proxies=("127.0.0.1",))
    assert (await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})).status == 403
    assert (await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status == 200
    assert (await client.get("/metrics")).status == 200


def scrape(url: str) -> dict[tuple, float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        return samples(response.read().decode())


def readyz_count(found: dict[tuple, float]) -> float:
    return found.get(("yatri_http_requests_total", ("method", "GET"), ("route", "/readyz"), ("status", "200")), 0)


async def test_workers_add_up_their_counts_and_a_dead_one_stops_counting(shared_database_url, tmp_path):
    """`serve --workers 2` gives the workers one metrics folder, emptied at start; any
    worker's scrape counts every worker's requests, a killed one's too."""
    folder = tmp_path / "var" / "prometheus"
    folder.mkdir(parents=True)
    (folder / "counter_999999.db").write_bytes(b"a previous run's")
    with LiveServer(shared_database_url, tmp_path / "var", serve_args=("--workers", "2")) as server:
        workers = wait_for_workers(server.process.pid, 2)
        assert not (folder / "counter_999999.db").exists()
        for pid in workers:
            wait_for_app(pid)
        answered: set[int] = set()
        sent = 0
        # A new connection each time: the kernel hands them to whichever worker accepts.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:

            async def ready() -> int:
                async with http.get(server.url + "/readyz") as response:
                    return response.status

            while answered != workers and sent < 400:
                assert await asyncio.gather(*(ready() for _ in range(20))) == [200] * 20
                sent += 20
                answered = {int(f.stem.rsplit("_", 1)[1]) for f in folder.glob("counter_*.db")}
        assert answered == workers  # both served, each wrote its own file
        assert readyz_count(scrape(server.url)) == sent
        found = scrape(server.url)
        assert found[("yatri_ready",)] == 1 and found[("yatri_bookings", ("status", "held"))] == 0
        assert found[("yatri_http_requests_in_progress",)] == 1  # this scrape

        killed = min(workers)
        assert (folder / f"gauge_livesum_{killed}.db").exists()
        os.kill(killed, signal.SIGKILL)
        wait_for_workers(server.process.pid, 2, other_than={killed})
        assert not (folder / f"gauge_livesum_{killed}.db").exists()  # marked dead by the master
        assert readyz_count(scrape(server.url)) == sent  # its requests still count
