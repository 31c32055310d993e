"""bench/run.py reads wrk's report: req/s, p50 and p99 in milliseconds, and failures;
bench/jobs.py sends every queued mail once."""

import os
import subprocess
import sys
from pathlib import Path

from bench.jobs import measure
from bench.run import parse_wrk

REPORT = """Running 1s test @ http://127.0.0.1:9601/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   590.55us    0.96ms   8.88ms   89.43%
    Req/Sec    12.65k     4.46k   24.51k    80.95%
  Latency Distribution
     50%  295.00us
     75%  322.00us
     90%    1.65ms
     99%    1.02s
  26378 requests in 1.10s, 3.95MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 7
Requests/sec:  23980.92
Transfer/sec:      3.59MB
"""


def test_parse_wrk_reads_rate_latency_in_ms_and_failures():
    run = parse_wrk(REPORT)
    assert run.rps == 23980.92
    assert run.p50_ms == 0.295
    assert run.p99_ms == 1020.0
    assert run.bad == 14


def test_parse_wrk_counts_no_failures_in_a_clean_report():
    clean = "\n".join(line for line in REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    assert parse_wrk(clean).bad == 0


async def test_the_sse_bench_runs_small_and_every_stream_hears_every_change(database_url, tmp_path):
    """bench/sse.py, small: on PostgreSQL two workers (changes on the first reach the
    second's streams through NOTIFY), on SQLite one."""
    from bench.sse import run

    workers = 1 if database_url.startswith("sqlite") else 2
    result = await run(database_url, workers, streams=6, rounds=2, var=tmp_path)
    assert result.missed == 0
    assert len(result.deliveries) == 12 and len(result.last) == 2
    assert all(0 < delay < 5 for delay in result.deliveries)
    assert len(result.rss_open_kib) == workers and all(kib > 10_000 for kib in result.rss_open_kib)
    assert "p99" in result.report("smoke")


async def test_the_jobs_bench_sends_each_queued_mail_exactly_once(tmp_path):
    """bench/jobs.py on a small scale: a real `yatri work` process and SMTP server."""
    url = f"sqlite://{tmp_path / 'jobs.sqlite3'}"
    subprocess.run([Path(sys.executable).parent / "yatri", "migrate"], env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True)
    result = await measure(url, tmp_path, mails=20)
    assert result.exactly_once and result.received == 20 and result.per_second > 0
