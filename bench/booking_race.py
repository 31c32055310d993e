"""The booking race: many travellers asking for the last seats at once, over HTTP.

    .venv/bin/python bench/booking_race.py [--requests 200] [--seats 20] [--servers 2]
    .venv/bin/python bench/booking_race.py --workers 1,2,4   # PostgreSQL: how it scales

Prepares a departure with `--seats` seats and a few signed-in travellers, starts
`--servers` `yatri serve` processes on the same database (DATABASE_URL; default a SQLite
file under var/bench, where one server is the supported set-up), sends `--requests`
booking requests of one seat each at once, spread over the servers, and prints bookings
per second, how the requests were answered and the oversold count, which must be 0.
Exit status 1 when a seat was sold twice or a request got a server error.

`--workers 1,2,4` instead runs one `yatri serve --workers N` (gunicorn) for each N in
turn, each on a fresh departure, and prints bookings per second and the oversold count
per N (PostgreSQL; the machine's cores bound how far it scales).

`race()` is also what tests/test_booking_race.py runs.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "race-password-2026"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FIELD_ERROR = re.compile(r'<p class="field-error"[^>]*>([^<]+)</p>')
TRAVELLER = {
    "t1-full_name": "Race Traveller", "t1-age": "30", "t1-gender": "", "t1-phone": "9876543210",
    "t1-email": "race@example.com", "t1-emergency_contact_name": "Race Contact",
    "t1-emergency_contact_phone": "9812345678",
}  # fmt: skip


@dataclass
class RaceResult:
    statuses: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)  # the message of each 409
    booked: int = 0
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


async def prepare(database_url: str, *, seats: int, travellers: int) -> tuple[int, list[str]]:
    """A departure with `seats` seats of a published trip and `travellers` accounts;
    returns the departure id and the accounts' emails (password PASSWORD)."""
    from yatri.db import open_database
    from yatri.models import Departure, Destination, Trip
    from yatri.settings import Settings

    ctx = await open_database(Settings(database_url=database_url))
    with ctx:
        tag = uuid.uuid4().hex[:8]
        destination = await Destination.create(slug=f"race-{tag}", name="Race Valley", region="Benchmark")
        trip = await Trip.create(
            slug=f"race-{tag}", title="Race Trek", kind="trek", destination=destination, days=2,
            difficulty="easy", price_paise=500_000, summary="Everyone wants the last seat.", is_published=True,
            max_per_booking=10,
        )  # fmt: skip
        start = date.today() + timedelta(days=60)
        departure = await Departure.create(trip=trip, starts_on=start, ends_on=start + timedelta(days=1), capacity=seats)
        emails = await add_travellers(tag, travellers)
    await ctx.close_connections()
    return departure.id, emails


async def add_travellers(tag: str, count: int) -> list[str]:
    """`count` verified accounts (password PASSWORD) in the open database; their emails."""
    from yatri.models import User
    from yatri.services.accounts import hash_password

    password_hash = hash_password(PASSWORD)
    emails = [f"racer{n}-{tag}@example.com" for n in range(count)]
    await User.bulk_create([User(email=e, name=f"Racer {n}", password_hash=password_hash, email_verified=True) for n, e in enumerate(emails)])
    return emails


async def _signed_in(base_url: str, email: str) -> tuple[aiohttp.ClientSession, str]:
    """A browser-like client signed in as `email`, and its CSRF token. Sessions live in the
    database, so the same cookie works on every server process."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(base_url + "/login") as response:
        token = _CSRF.search(await response.text()).group(1)
    data = {"email": email, "password": PASSWORD, "csrf_token": token}
    async with session.post(base_url + "/login", data=data, allow_redirects=False) as response:
        assert response.status == 303, f"login failed for {email}: {response.status}"
    async with session.get(base_url + "/bookings") as response:
        return session, _CSRF.search(await response.text()).group(1)


async def race(base_urls: list[str], departure_id: int, emails: list[str], requests: int) -> RaceResult:
    """Send `requests` one-seat bookings at once, round robin over servers and travellers."""
    clients = [await _signed_in(base_urls[0], email) for email in emails]
    result = RaceResult()

    async def book(n: int) -> None:
        session, token = clients[n % len(clients)]
        url = f"{base_urls[n % len(base_urls)]}/departures/{departure_id}/book"
        data = {"csrf_token": token, "count": "1", "idempotency_key": uuid.uuid4().hex, **TRAVELLER}
        async with session.post(url, data=data, allow_redirects=False) as response:
            result.statuses[response.status] += 1
            if response.status == 303:
                result.booked += 1
            elif response.status == 409:
                found = _FIELD_ERROR.search(await response.text())
                result.refusals[found.group(1) if found else "(no message)"] += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(book(n) for n in range(requests)))
    finally:
        result.seconds = time.perf_counter() - started
        for session, _ in clients:
            await session.close()
    return result


async def seats_in_database(database_url: str, departure_id: int) -> tuple[int, int, int]:
    """(capacity, seats taken by bookings now, bookings whose traveller rows disagree)."""
    from tortoise.functions import Count

    from yatri.db import open_database
    from yatri.models import Booking, Departure
    from yatri.services.seats import seats_taken
    from yatri.settings import Settings

    ctx = await open_database(Settings(database_url=database_url))
    with ctx:
        departure = await Departure.get(id=departure_id)
        taken = await seats_taken(departure_id, datetime.now(UTC))
        rows = await Booking.filter(departure_id=departure_id).annotate(n=Count("travellers")).values("seats", "n")
        broken = sum(1 for row in rows if row["seats"] != row["n"])
    await ctx.close_connections()
    return departure.capacity, taken, broken


GOAL_BOOKINGS_PER_SECOND = 300
# Every request of the race comes from 127.0.0.1: lift the per-client limit of booking posts.
RACE_LIMITS = {"RATE_LIMIT_FORMS_PER_MINUTE": "100000"}


def _serve(database_url: str, port: int, var: Path, workers: int = 1) -> subprocess.Popen:
    env = {"DATABASE_URL": database_url, "YATRI_VAR_DIR": str(var), "PATH": str(Path(sys.executable).parent), **RACE_LIMITS}
    log = (var / f"race-{port}.log").open("w")
    command = [str(Path(sys.executable).parent / "yatri"), "serve", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


async def scaling(database_url: str, var: Path, workers: list[int], requests: int, seats: int) -> int:
    """The race once per worker count, each on its own departure and server."""
    from bench.run import free_port, wait_ready

    failed = False
    print(f"booking race by workers: {requests} requests for {seats} seats each, {database_url.split(':')[0]}")
    print("  workers  bookings/s  requests/s  booked  oversold  5xx")
    for count in workers:
        departure_id, emails = await prepare(database_url, seats=seats, travellers=10)
        port = free_port()
        process = _serve(database_url, port, var, count)
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_ready(url + "/healthz", process)
            await asyncio.sleep(2 if count > 1 else 0)  # every gunicorn worker has built its app
            result = await race([url], departure_id, emails, requests)
        finally:
            process.terminate()
            process.wait(timeout=30)
        capacity, taken, broken = await seats_in_database(database_url, departure_id)
        oversold = max(0, taken - capacity)
        failed |= bool(oversold or broken or result.server_errors)
        print(f"  {count:7d}  {result.booked / result.seconds:10.0f}  {requests / result.seconds:10.0f}  {result.booked:6d}  {oversold:8d}  {result.server_errors:3d}")
    print(f"  {'FAIL' if failed else 'PASS'}  oversold 0 and no server error at every worker count")
    return 1 if failed else 0


async def main() -> int:
    import os

    from bench.run import free_port, wait_ready

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--servers", type=int, default=None, help="default: 2 on PostgreSQL, 1 on SQLite")
    parser.add_argument("--workers", default="", help="comma-separated worker counts, e.g. 1,2,4: one gunicorn server each (PostgreSQL)")
    args = parser.parse_args()
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL", f"sqlite://{var / 'race.sqlite3'}")
    servers = args.servers or (1 if database_url.startswith("sqlite") else 2)
    subprocess.run([str(Path(sys.executable).parent / "yatri"), "migrate"], env={**os.environ, "DATABASE_URL": database_url}, check=True, stdout=subprocess.DEVNULL)
    if args.workers:
        return await scaling(database_url, var, [int(n) for n in args.workers.split(",")], args.requests, args.seats)
    departure_id, emails = await prepare(database_url, seats=args.seats, travellers=10)
    ports = [free_port() for _ in range(servers)]
    processes = [_serve(database_url, port, var) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes):
            await wait_ready(url + "/healthz", process)
        result = await race(urls, departure_id, emails, args.requests)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
    capacity, taken, broken = await seats_in_database(database_url, departure_id)
    oversold = max(0, taken - capacity)
    print(f"booking race: {args.requests} requests for {capacity} seats, {servers} server(s), {database_url.split(':')[0]}")
    print(f"  {result.booked} booked in {result.seconds:.2f} s: {args.requests / result.seconds:.0f} requests/s, {result.booked / result.seconds:.0f} bookings/s")
    print(f"  answers: {dict(sorted(result.statuses.items()))}")
    for message, n in result.refusals.most_common():
        print(f"  {n:4d} x {message}")
    print(f"  seats taken {taken} of {capacity}; oversold {oversold}; bookings without all their travellers {broken}")
    rate = result.booked / result.seconds
    print(f"  {'PASS' if rate >= GOAL_BOOKINGS_PER_SECOND else 'FAIL'}  {rate:.0f} bookings/s >= {GOAL_BOOKINGS_PER_SECOND} (issue 20: PostgreSQL, 2 servers, 1,000 seats)")
    print(f"  {'PASS' if oversold == 0 else 'FAIL'}  oversold {oversold} == 0")
    return 0 if oversold == 0 and broken == 0 and not result.server_errors else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(asyncio.run(main()))
