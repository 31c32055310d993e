"""Periodic jobs that a server runs beside its requests (clean-ups, expiries)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from yatri.db import database_context
from yatri.keys import DatabaseKey

log = logging.getLogger("yatri.background")


def run_every(
    app: web.Application, seconds: float, job: Callable[[web.Application], Awaitable[None]], what: str,
    *, at_start: bool = False,
) -> asyncio.Task:
    """Run `job(app)` every `seconds` (and once at once with `at_start`) with the app's
    database; a failure is logged and the next round still runs. Cancel the task on cleanup."""

    async def loop() -> None:
        if not at_start:
            await asyncio.sleep(seconds)
        while True:
            try:
                with database_context(app[DatabaseKey]):
                    await job(app)
            except Exception:  # keep the loop alive through a database hiccup
                log.exception("%s failed", what)
            await asyncio.sleep(seconds)

    return asyncio.create_task(loop())
