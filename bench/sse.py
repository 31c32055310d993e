"""Live updates under load: many open SSE streams, and how long a change takes to reach them.

    .venv/bin/python bench/sse.py [--streams 1000] [--rounds 20]

Two set-ups, each with `yatri serve` processes started here:
1. one worker (DATABASE_URL, default a SQLite file under var/bench) holding every stream;
2. two workers on PostgreSQL (BENCH_POSTGRES_URL, default a fresh database on
   postgres://postgres@127.0.0.1:5432), half the streams on each: every change is made on
   worker A, so the streams on B hear of it through LISTEN/NOTIFY.
Every stream is the public seats stream of one departure (`/live/seats?d=ID`). Each round
holds one seat on it over HTTP (a signed-in traveller's booking post, which commits the
change and announces `departure:ID`) and times, for every stream, the delay from the moment
the post was sent (the commit is inside that window) to the stream's event. Printed: each
worker's memory (RSS) idle and with its streams open, the delay of every delivery (p50,
p99) and of the last stream to hear of each round's change (p50, p99 over the rounds).

`measure()` is what tests/test_bench.py runs, small.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    workers: int
    streams: int
    rss_idle_kib: list[int] = field(default_factory=list)
    rss_open_kib: list[int] = field(default_factory=list)
    deliveries: list[float] = field(default_factory=list)  # seconds, every stream every round
    last: list[float] = field(default_factory=list)  # seconds, the last stream of each round
    missed: int = 0

    def report(self, label: str) -> str:
        def ms(values: list[float], q: float) -> str:
            return f"{_quantile(values, q) * 1000:.1f} ms" if values else "-"

        return "\n".join([
            f"{label}: {self.streams} streams on {self.workers} worker(s)",
            (f"  RSS per worker: idle {', '.join(f'{k / 1024:.1f} MiB' for k in self.rss_idle_kib)}; "
             f"with the streams open {', '.join(f'{k / 1024:.1f} MiB' for k in self.rss_open_kib)}"),
            f"  every delivery: p50 {ms(self.deliveries, 0.5)}, p99 {ms(self.deliveries, 0.99)}",
            f"  last stream of a round: p50 {ms(self.last, 0.5)}, p99 {ms(self.last, 0.99)} ({len(self.last)} rounds)",
            f"  events missed: {self.missed}",
        ])  # fmt: skip


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _open_stream(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    response = await http.get(url, headers={"Accept": "text/event-stream"})
    assert response.status == 200, f"{url}: {response.status}"
    return response


async def _next_event(response: aiohttp.ClientResponse) -> float:
    """When this stream's next event arrived (monotonic)."""
    while True:
        line = await response.content.readline()
        if not line:
            raise ConnectionError("the stream ended")
        if line.startswith(b"event:"):
            return time.monotonic()


async def measure(urls: list[str], pids: list[int], database_url: str, *, streams: int, rounds: int) -> Result:
    """Open `streams` streams spread over `urls`, then make `rounds` changes on urls[0]."""
    from bench.booking_race import TRAVELLER, _signed_in, prepare

    departure_id, emails = await prepare(database_url, seats=rounds + 5, travellers=1)
    result = Result(workers=len(urls), streams=streams)
    result.rss_idle_kib = [rss_kib(pid) for pid in pids]
    traveller, token = await _signed_in(urls[0], emails[0])
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as http:
        gate = asyncio.Semaphore(100)

        async def one(n: int) -> aiohttp.ClientResponse:
            async with gate:
                return await _open_stream(http, f"{urls[n % len(urls)]}/live/seats?d={departure_id}")

        responses = await asyncio.gather(*(one(n) for n in range(streams)))
        try:
            await asyncio.sleep(1)  # every handler has subscribed
            result.rss_open_kib = [rss_kib(pid) for pid in pids]
            for _ in range(rounds):
                waiting = [asyncio.ensure_future(_next_event(r)) for r in responses]
                sent = time.monotonic()
                data = {"csrf_token": token, "count": "1", "idempotency_key": uuid.uuid4().hex, **TRAVELLER}
                async with traveller.post(f"{urls[0]}/departures/{departure_id}/book", data=data, allow_redirects=False) as answer:
                    assert answer.status == 303, f"booking refused: {answer.status}"
                done, pending = await asyncio.wait(waiting, timeout=10)
                for task in pending:
                    task.cancel()
                result.missed += len(pending)
                arrived = [task.result() - sent for task in done if task.exception() is None]
                result.missed += len(done) - len(arrived)
                result.deliveries += arrived
                if arrived:
                    result.last.append(max(arrived))
        finally:
            for response in responses:
                response.close()
            await traveller.close()
    return result


# ---------------------------------------------------------------- the command


def _serve(database_url: str, port: int, var: Path) -> subprocess.Popen:
    from bench.booking_race import RACE_LIMITS

    env = {"DATABASE_URL": database_url, "YATRI_VAR_DIR": str(var), "PATH": str(Path(sys.executable).parent), **RACE_LIMITS}
    log = (var / f"sse-{port}.log").open("w")
    yatri = str(Path(sys.executable).parent / "yatri")
    return subprocess.Popen([yatri, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)


async def run(database_url: str, workers: int, streams: int, rounds: int, var: Path) -> Result:
    from bench.run import free_port, wait_ready

    migrate = [str(Path(sys.executable).parent / "yatri"), "migrate"]
    subprocess.run(migrate, env={**os.environ, "DATABASE_URL": database_url}, check=True, stdout=subprocess.DEVNULL)
    ports = [free_port() for _ in range(workers)]
    processes = [_serve(database_url, port, var) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes):
            await wait_ready(url + "/healthz", process)
        return await measure(urls, [p.pid for p in processes], database_url, streams=streams, rounds=rounds)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


async def fresh_postgres() -> tuple[str, str]:
    import asyncpg

    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"yatri_bench_sse_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return base.rsplit("/", 1)[0] + "/" + name, name


async def drop_postgres(name: str) -> None:
    import asyncpg

    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    connection = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    single = os.environ.get("DATABASE_URL", f"sqlite://{var / f'sse-{uuid.uuid4().hex[:8]}.sqlite3'}")
    one = await run(single, 1, args.streams, args.rounds, var)
    print(one.report(f"one worker, {single.split(':')[0]}"))
    postgres_url, name = await fresh_postgres()
    try:
        two = await run(postgres_url, 2, args.streams, args.rounds, var)
    finally:
        await drop_postgres(name)
    print(two.report("two workers, PostgreSQL LISTEN/NOTIFY (changes made on the first)"))
    return 0 if one.missed == two.missed == 0 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(asyncio.run(main()))
