"""`yatri serve`: one process with aiohttp's own runner, or several under gunicorn.

Several workers follow aiohttp's production deployment: gunicorn's pre-fork master with
`aiohttp.GunicornWebWorker`. The master never imports the app: each worker imports and
builds its own from the environment after the fork (no state is shared but the
database), so a worker that replaces a crashed one starts from scratch. SIGHUP starts new workers and retires the old
ones gracefully; SIGTERM stops accepting, lets in-flight requests finish within
GRACEFUL_SECONDS, then runs each worker's cleanup (background loops, database).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aiohttp import web
from gunicorn.app.base import BaseApplication

from yatri.settings import Settings

GRACEFUL_SECONDS = 30


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    from yatri.log import configure_logging

    configure_logging(settings)
    if workers > 1 and settings.is_sqlite:
        print(f"yatri: SQLite supports one server process; serving with 1 worker, not {workers} (use PostgreSQL for more)",
              file=sys.stderr, flush=True)  # fmt: skip
        workers = 1
    if workers == 1:
        from yatri.app import create_app

        # request_context logs each request with its id, so aiohttp's own access log is off.
        web.run_app(create_app(settings), host=host, port=port, access_log=None, print=None,
                    shutdown_timeout=GRACEFUL_SECONDS)  # fmt: skip
        return
    _metrics_directory(settings)
    _Gunicorn(bind=_bind(host, port), workers=workers, child_exit=_worker_exited).run()


def _metrics_directory(settings: Settings) -> None:
    """Where the workers' metrics meet: PROMETHEUS_MULTIPROC_DIR (default var/prometheus),
    emptied of a previous run's files, set before any worker imports prometheus_client."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.var_dir / "prometheus")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _worker_exited(server, worker) -> None:
    """In the master, as gunicorn reaps a worker (crashed or retired): its requests in
    flight no longer count. Its counters stay, so totals never go back."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _app_factory() -> web.Application:
    """Run by each gunicorn worker after the fork."""
    from yatri.app import create_app

    return create_app(Settings.from_env())


class _Gunicorn(BaseApplication):
    """gunicorn's master, configured from code instead of its command line."""

    def __init__(self, **options) -> None:
        self.options = {
            "worker_class": "aiohttp.GunicornWebWorker",
            "graceful_timeout": GRACEFUL_SECONDS,
            "accesslog": None,  # request_context logs each request
            **options,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return _app_factory
