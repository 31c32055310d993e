"""Limits that hold however many requests arrive at once, on any number of server
processes: per-minute request counters in the database, so every process sees the same
state (count-then-record steps take `locks.lock_keys`)."""

from __future__ import annotations

import math
from datetime import datetime

from yatri.errors import TooManyRequests
from yatri.models import RateCounter


def _minute(now: datetime) -> int:
    return math.floor(now.timestamp() / 60)


async def count_request(bucket: str, client: str, limit: int, now: datetime) -> None:
    """Count one request of this client in this bucket for the current minute, in one
    atomic upsert that returns the new count; past `limit` raise TooManyRequests with
    the seconds left in the minute."""
    conn = RateCounter._meta.db
    mark = "?" if conn.capabilities.dialect == "sqlite" else "${}"
    values = ", ".join(mark.format(n) for n in (1, 2, 3))
    rows = await conn.execute_query_dict(
        f"INSERT INTO rate_counters (bucket, client, minute, hits) VALUES ({values}, 1) "
        "ON CONFLICT (bucket, client, minute) DO UPDATE SET hits = rate_counters.hits + 1 RETURNING hits",
        [bucket, client[:45], _minute(now)],
    )
    if rows[0]["hits"] > limit:
        wait = max(1, math.ceil(60 - now.timestamp() % 60))
        raise TooManyRequests(
            f"Too many requests from your address. Try again in {wait} second{'s' if wait != 1 else ''}.",
            retry_after=wait,
        )


async def delete_old_counters(now: datetime) -> int:
    """Minutes that are over no longer count; the periodic clean-up drops them."""
    return await RateCounter.filter(minute__lt=_minute(now)).delete()
