"""Load and page-weight bench for the catalogue.

    make bench                      # or: .venv/bin/python bench/run.py [--seconds 10]

1. Prepares a SQLite database under var/bench with the demo data (or uses DATABASE_URL).
2. Starts `yatri serve` and the bare aiohttp app of bench/hello.py the same way: one
   process each, on free local ports, logging to var/bench/*.log.
3. Drives each with 64 concurrent keep-alive clients (an asyncio load generator in this
   process) for --seconds, after a short warm-up, and prints requests per second, p50
   and p99 latency, and the ratio of /trips to hello.
4. Measures what a first visit to /trips transfers (gzip, headers included, images
   excluded: the page, its CSS, JS and icon) and the size of an HTMX filter fragment,
   and checks them against the budgets of DESIGN.md (60 KB and 8 KB).

Exit status 1 when a page weight is over budget. The load generator shares the machine
with both servers, so absolute numbers are modest; the ratio is the figure to watch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FIRST_VISIT_BUDGET = 60 * 1024
FRAGMENT_BUDGET = 8 * 1024
FILTER_QUERY = "/trips?q=trek&destination=&kind=trek&from=&to=&min_price=&max_price=&difficulty=&sort=price"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(var: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite://{var / 'bench.sqlite3'}")
    for command in ("migrate", "demo-data"):
        subprocess.run([str(BIN / "yatri"), command], env=env, check=True, stdout=subprocess.DEVNULL)
    return env


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


async def load(url: str, clients: int, seconds: float, warmup: float = 1.5) -> dict:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        start_at = time.perf_counter()
        measure_from = start_at + warmup
        stop_at = measure_from + seconds

        async def client() -> None:
            nonlocal errors
            while (now := time.perf_counter()) < stop_at:
                try:
                    async with session.get(url, headers={"Accept-Encoding": "gzip"}) as response:
                        await response.read()
                        ok = response.status == 200
                except aiohttp.ClientError:
                    ok = False
                if now >= measure_from:
                    latencies.append(time.perf_counter() - now)
                    errors += not ok

        await asyncio.gather(*(client() for _ in range(clients)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


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
        import gzip

        html = gzip.decompress(body).decode() if body[:2] == b"\x1f\x8b" else body.decode()
        assets = re.findall(r'<(?:link|script)[^>]+(?:href|src)="(/static/[^"]+)"', html)
        asset_bytes = {}
        for asset in assets:
            asset_bytes[asset.split("?")[0]], _ = await transferred(session, base + asset)
        fragment_bytes, _ = await transferred(session, base + FILTER_QUERY, {"HX-Request": "true"})
    return {"page": page_bytes, "assets": asset_bytes, "fragment": fragment_bytes}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=64)
    args = parser.parse_args()

    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    env = prepare_database(var)
    yatri_port, hello_port = free_port(), free_port()
    servers = [
        start([str(BIN / "yatri"), "serve", "--port", str(yatri_port)], env, var / "yatri.log"),
        start([sys.executable, str(ROOT / "bench" / "hello.py"), "--port", str(hello_port)], env, var / "hello.log"),
    ]
    try:
        yatri = f"http://127.0.0.1:{yatri_port}"
        hello = f"http://127.0.0.1:{hello_port}"
        await wait_ready(yatri + "/trips", servers[0])
        await wait_ready(hello + "/", servers[1])
        weights = await page_weights(yatri)
        print(f"load: {args.clients} concurrent clients, {args.seconds:g} s each after warm-up")
        trips = await load(yatri + "/trips", args.clients, args.seconds)
        base = await load(hello + "/", args.clients, args.seconds)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)

    print(f"{'':8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in (("/trips", trips), ("hello", base)):
        print(f"{name:8} {result['rps']:9.0f} {result['p50_ms']:8.1f} {result['p99_ms']:8.1f} {result['errors']:7d}")
    print(f"ratio /trips : hello = {trips['rps'] / base['rps']:.2f} (requests per second)")

    first_visit = weights["page"] + sum(weights["assets"].values())
    print("\nfirst visit to /trips (gzip, headers included, images excluded):")
    print(f"  {'/trips':40} {weights['page']:7d} B")
    for name, size in weights["assets"].items():
        print(f"  {name:40} {size:7d} B")
    ok_page = first_visit <= FIRST_VISIT_BUDGET
    ok_fragment = weights["fragment"] <= FRAGMENT_BUDGET
    print(f"  {'total':40} {first_visit:7d} B  budget {FIRST_VISIT_BUDGET} B  {'OK' if ok_page else 'OVER'}")
    print(f"filter fragment {FILTER_QUERY}:")
    print(f"  {'HX-Request, gzip':40} {weights['fragment']:7d} B  budget {FRAGMENT_BUDGET} B  {'OK' if ok_fragment else 'OVER'}")
    return 0 if ok_page and ok_fragment and not trips["errors"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
