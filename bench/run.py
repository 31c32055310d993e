"""Load and page-weight bench: Yatri against a bare aiohttp app, driven by `wrk`.

    make bench                      # or: .venv/bin/python bench/run.py [--seconds 10] [--rounds 3]

1. Installs `wrk` with apt-get when it is missing (Debian package `wrk`).
2. For each database, SQLite (a fresh file under var/bench) and PostgreSQL (a fresh
   database on POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres,
   created and dropped here): migrates, loads the demo data, adds one traveller, starts
   one `yatri serve` process and signs the traveller in (a real login) for its cookie.
3. The bare app of bench/hello.py runs alongside, one process, like `yatri serve`.
   Each round runs `wrk -t2 -c64 -d<seconds>s --latency` on hello, then on every target
   (anonymous /trips, /, a trip page, /healthz; signed-in /trips, /bookings), so hello
   and Yatri are measured interleaved. After --rounds rounds it prints min/median/max
   req/s, the median p50/p99 and the ratio of each target's median to hello's, then each
   goal of issue 20 these figures cover with PASS or FAIL.
4. Measures what a first visit to /trips transfers (gzip, headers included, images
   excluded: the page, its CSS, JS and icon) and the size of an HTMX filter fragment,
   and checks them against the budgets of DESIGN.md (60 KB and 8 KB).

5. `--scales 1,10,100` (`make bench-scale`) repeats all of it with the demo catalogue
   copied to each size (bench/scale.py; 100x is 2,800 trips and 40,800 bookings), then
   prints the goals across sizes: every page keeps 80 % of its smallest-size ratio at the
   largest, a cache-miss /trips (20 never-seen filter and page combinations, half with
   search text) stays under 20 ms, the server's RSS after the load stays under 120 MB,
   and the /trips weight does not grow with the catalogue.

Exit status 1 when a page weight is over budget or a response was not 2xx (wrk counts
3xx as success, so the signed-in cookie is checked first). A goal that FAILs is printed,
not an exit status: this is a benchmark, not a timed test. wrk shares the 2 cores with the
servers, so the ratio to hello is the figure to watch.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
FIRST_VISIT_BUDGET = 60 * 1024
FRAGMENT_BUDGET = 8 * 1024
FILTER_QUERY = "/trips?q=trek&destination=&kind=trek&from=&to=&min_price=&max_price=&difficulty=&sort=price"
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# (name, path, signed in); "{trip}" is the first trip page linked from /trips.
TARGETS = [
    ("/trips", "/trips", False), ("/", "/", False), ("trip page", "{trip}", False), ("/healthz", "/healthz", False),
    ("/trips signed in", "/trips", True), ("/bookings signed in", "/bookings", True),
]  # fmt: skip
# Issue 20's goals that these figures cover: (targets, least ratio to hello).
RATIO_GOALS = [(("/trips", "/", "trip page"), 0.35), (("/trips signed in", "/bookings signed in"), 0.15)]
P99_GOAL_MS = 50.0
P99_TARGETS = ("/trips", "/", "trip page")
SCALE_KEEP = 0.8  # at the largest catalogue, each page keeps this share of its ratio at the smallest
MISS_GOAL_MS = 20.0
MEMORY_GOAL_MB = 120
WEIGHT_GROWTH_BYTES = 512  # /trips may grow by a few digits in counts, not by the catalogue
SORT_KEYS = ("next", "price", "price_desc", "duration")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int  # non-2xx/3xx responses and socket errors


def parse_wrk(output: str) -> Run:
    """req/s, p50 and p99 (ms) and the failures from `wrk --latency` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {q: float(v) * _UNIT_MS[u] for q, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)}
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    if errors := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        bad += sum(int(n) for n in errors.groups())
    return Run(rps, latency["50"], latency["99"], bad)


def wrk(url: str, seconds: float, clients: int, cookie: str | None = None) -> Run:
    headers = ["-H", "Accept-Encoding: gzip"] + (["-H", f"Cookie: {cookie}"] if cookie else [])
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds:g}s", "--latency", *headers, url]
    return parse_wrk(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


@dataclass
class Target:
    name: str
    url: str
    cookie: str | None = None
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)


async def wait_ready(url: str, process: subprocess.Popen) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if process.poll() is not None:
                raise SystemExit(f"the server for {url} exited; see var/bench/*.log")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not answer in 20 s")


@asynccontextmanager
async def database(kind: str, var: Path):
    """A fresh database URL of `kind` (sqlite | postgres), dropped afterwards."""
    if kind == "sqlite":
        path = var / "bench.sqlite3"
        for stale in var.glob("bench.sqlite3*"):
            stale.unlink()
        yield f"sqlite://{path}"
        return
    import asyncpg

    admin_url = POSTGRES_URL.replace("postgres://", "postgresql://", 1)
    name = f"yatri_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def prepare(database_url: str, scale: int = 1) -> str:
    """Migrate, load the demo data (copied to `scale` times its size, bench/scale.py) and
    add one traveller; returns the traveller's email."""
    from bench.booking_race import add_travellers
    from bench.scale import scale_catalogue
    from yatri.db import open_database
    from yatri.settings import Settings

    env = {**os.environ, "DATABASE_URL": database_url}
    for command in ("migrate", "demo-data"):
        subprocess.run([str(BIN / "yatri"), command], env=env, check=True, stdout=subprocess.DEVNULL)
    ctx = await open_database(Settings(database_url=database_url))
    with ctx:
        if scale > 1:
            print(f"  {scale}x catalogue: " + ", ".join(f"{n} {name}" for name, n in (await scale_catalogue(scale)).items()))
        [email] = await add_travellers("bench-" + uuid.uuid4().hex[:8], 1)
    await ctx.close_connections()
    return email


async def signed_in_cookie(base: str, email: str) -> str:
    """The Cookie header of a real login, checked: /bookings answers 200, not a redirect."""
    from bench.booking_race import _signed_in

    session, _ = await _signed_in(base, email)
    async with session:
        cookie = "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar)
    async with aiohttp.ClientSession() as check:
        async with check.get(base + "/bookings", headers={"Cookie": cookie}, allow_redirects=False) as response:
            assert response.status == 200, f"the signed-in cookie does not open /bookings ({response.status})"
    return cookie


async def first_trip_page(base: str) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.get(base + "/trips") as response:
            return re.search(r'href="(/trips/[a-z0-9-]+)"', await response.text()).group(1)


async def transferred(session: aiohttp.ClientSession, url: str, headers: dict | None = None) -> tuple[int, bytes]:
    """Bytes on the wire for one gzip-accepting GET (status line and headers included)."""
    async with session.get(url, headers={"Accept-Encoding": "gzip", **(headers or {})}) as response:
        body = await response.read()  # still compressed: the session does not decompress
        head = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + sum(
            len(k) + len(v) + 4 for k, v in response.raw_headers
        )
        assert response.status == 200, (url, response.status)
        return head + len(body), body


async def page_weights(base: str) -> dict:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        page_bytes, body = await transferred(session, base + "/trips")
        html = gzip.decompress(body).decode() if body[:2] == b"\x1f\x8b" else body.decode()
        assets = re.findall(r'<(?:link|script)[^>]+(?:href|src)="(/static/[^"]+)"', html)
        asset_bytes = {}
        for asset in assets:
            asset_bytes[asset.split("?")[0]], _ = await transferred(session, base + asset)
        fragment_bytes, _ = await transferred(session, base + FILTER_QUERY, {"HX-Request": "true"})
    return {"page": page_bytes, "assets": asset_bytes, "fragment": fragment_bytes}


def measure(hello: Target, targets: list[Target], args) -> None:
    for target in [hello, *targets]:  # warm-up, not counted
        wrk(target.url, 1, args.clients, target.cookie)
    for round_ in range(args.rounds):
        for target in [hello, *targets]:
            target.runs.append(wrk(target.url, args.seconds, args.clients, target.cookie))
        print(f"  round {round_ + 1}: hello {hello.runs[-1].rps:.0f} req/s, /trips {targets[0].runs[-1].rps:.0f} req/s", flush=True)


@dataclass
class Outcome:
    """One database at one catalogue scale: ratios to hello, goals failed, bad responses."""

    label: str
    ratios: dict[str, float]
    failed: int
    bad: int
    weights: dict | None = None
    miss_ms: float = 0.0
    rss_mb: float = 0.0


def report(label: str, hello: Target, targets: list[Target]) -> Outcome:
    """Prints the table and the goals of one run."""
    base = hello.median("rps")
    print(f"\n{label}: req/s over {len(hello.runs)} rounds (min / median / max), median p50 and p99, ratio of medians to hello")
    print(f"  {'':20} {'min':>7} {'median':>7} {'max':>7} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6} {'bad':>5}")
    ratios = {}
    for target in [hello, *targets]:
        rps = [run.rps for run in target.runs]
        ratios[target.name] = target.median("rps") / base
        print(
            f"  {target.name:20} {min(rps):7.0f} {target.median('rps'):7.0f} {max(rps):7.0f} "
            f"{target.median('p50_ms'):7.1f} {target.median('p99_ms'):7.1f} {ratios[target.name]:6.3f} "
            f"{sum(run.bad for run in target.runs):5d}"
        )
    by_name = {target.name: target for target in targets}
    failed = 0
    for names, least in RATIO_GOALS:
        for name in names:
            failed += goal(ratios[name] >= least, f"{name}: ratio {ratios[name]:.3f} >= {least}")
    for name in P99_TARGETS:
        p99 = by_name[name].median("p99_ms")
        served = by_name[name].median("rps") > 0  # wrk reports 0 ms when nothing came back
        failed += goal(served and p99 < P99_GOAL_MS, f"{name}: p99 {p99:.1f} ms < {P99_GOAL_MS:g} ms at 64 connections")
    return Outcome(label, ratios, failed, sum(run.bad for target in targets for run in target.runs))


def goal(ok: bool, text: str) -> int:
    """Print one goal with PASS or FAIL; 1 when it failed."""
    print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return int(not ok)


async def cache_miss_ms(base: str, count: int = 20) -> float:
    """Median time of /trips requests no cache has seen: each asks for a price limit no
    other request asked for, a deeper page each time, with and without search text."""
    times = []
    async with aiohttp.ClientSession() as session:
        for i in range(count):
            query = f"max_price={9_000_000 + i}&page={1 + i * 7}&sort={SORT_KEYS[i % len(SORT_KEYS)]}"
            started = time.perf_counter()
            async with session.get(f"{base}/trips?{query}" + ("&q=trek+valley" if i % 2 else "")) as response:
                await response.read()
                assert response.status == 200, (query, response.status)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


async def bench_database(kind: str, scale: int, hello: str, var: Path, args) -> Outcome:
    async with database(kind, var) as database_url:
        email = await prepare(database_url, scale)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url}
        server = start([str(BIN / "yatri"), "serve", "--port", str(port)], env, var / f"yatri-{kind}.log")
        try:
            yatri = f"http://127.0.0.1:{port}"
            await wait_ready(yatri + "/trips", server)
            weights = await page_weights(yatri)
            miss_ms = await cache_miss_ms(yatri)
            trip, cookie = await first_trip_page(yatri), await signed_in_cookie(yatri, email)
            targets = [Target(name, yatri + path.format(trip=trip), cookie if signed else None) for name, path, signed in TARGETS]
            hello_target = Target("hello", hello)
            print(f"{kind} {scale}x: wrk -t2 -c{args.clients} -d{args.seconds:g}s, {args.rounds} rounds", flush=True)
            measure(hello_target, targets, args)
            memory = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)
        outcome = report(f"{kind} {scale}x", hello_target, targets)
        outcome.weights, outcome.miss_ms, outcome.rss_mb = weights, miss_ms, memory
        print(f"  cache-miss /trips: median {miss_ms:.1f} ms; RSS after the load {memory:.0f} MB")
        return outcome


def print_weights(outcome: Outcome) -> bool:
    weights = outcome.weights
    first_visit = weights["page"] + sum(weights["assets"].values())
    print(f"\n{outcome.label}: first visit to /trips (gzip, headers included, images excluded):")
    print(f"  {'/trips':40} {weights['page']:7d} B")
    for name, size in weights["assets"].items():
        print(f"  {name:40} {size:7d} B")
    ok_page = first_visit <= FIRST_VISIT_BUDGET
    ok_fragment = weights["fragment"] <= FRAGMENT_BUDGET
    print(f"  {'total':40} {first_visit:7d} B  budget {FIRST_VISIT_BUDGET} B  {'OK' if ok_page else 'OVER'}")
    print(f"filter fragment {FILTER_QUERY}:")
    print(f"  {'HX-Request, gzip':40} {weights['fragment']:7d} B  budget {FRAGMENT_BUDGET} B  {'OK' if ok_fragment else 'OVER'}")
    return ok_page and ok_fragment


def scale_goals(outcomes: list[Outcome], scales: list[int]) -> int:
    """Issue 20's goals across scales: the largest scale keeps SCALE_KEEP of the smallest's
    ratio on every page, a cache miss stays under MISS_GOAL_MS, memory under MEMORY_GOAL_MB,
    and the page weight does not grow with the catalogue."""
    if len(scales) < 2:
        return 0
    failed = 0
    small, large = min(scales), max(scales)
    by_label = {o.label: o for o in outcomes}
    for kind in dict.fromkeys(o.label.split()[0] for o in outcomes):
        low, high = by_label[f"{kind} {small}x"], by_label[f"{kind} {large}x"]
        print(f"\n{kind}: {large}x against {small}x")
        for name in [n for n, _, _ in TARGETS]:
            kept = high.ratios[name] / low.ratios[name]
            failed += goal(kept >= SCALE_KEEP, f"{name}: keeps {kept:.0%} of its {small}x throughput (>= {SCALE_KEEP:.0%})")
        failed += goal(high.miss_ms < MISS_GOAL_MS, f"cache-miss /trips at {large}x: {high.miss_ms:.1f} ms < {MISS_GOAL_MS:g} ms")
        failed += goal(high.rss_mb <= MEMORY_GOAL_MB, f"RSS at {large}x after the load: {high.rss_mb:.0f} MB <= {MEMORY_GOAL_MB} MB")
        growth = high.weights["page"] - low.weights["page"]
        failed += goal(growth <= WEIGHT_GROWTH_BYTES, f"/trips weight grows {growth} B from {small}x to {large}x (<= {WEIGHT_GROWTH_BYTES} B)")
    return failed


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--scales", default="1", help="comma-separated catalogue sizes, e.g. 1,10,100 (bench/scale.py)")
    args = parser.parse_args()
    scales = [int(n) for n in args.scales.split(",")]
    ensure_wrk()
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    hello_port = free_port()
    hello_server = start([sys.executable, str(ROOT / "bench" / "hello.py"), "--port", str(hello_port)], dict(os.environ), var / "hello.log")
    hello = f"http://127.0.0.1:{hello_port}/"
    try:
        await wait_ready(hello, hello_server)
        outcomes = [await bench_database(kind, scale, hello, var, args) for kind in args.databases.split(",") for scale in scales]
    finally:
        hello_server.terminate()
        hello_server.wait(timeout=10)
    within = [print_weights(o) for o in outcomes if o.label.startswith(outcomes[0].label.split()[0])]  # each one printed
    weights_ok = all(within)
    failed = sum(o.failed for o in outcomes) + scale_goals(outcomes, scales)
    bad = sum(o.bad for o in outcomes)
    print(f"\ngoals failed: {failed}; responses not 2xx/3xx or socket errors: {bad}")
    return 0 if weights_ok and not bad else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
