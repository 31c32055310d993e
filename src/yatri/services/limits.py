"""Limits that hold however many requests arrive at once, on any number of server
processes: a lock per key for count-then-record steps, and per-minute request counters.
Both live in the database, so every process sees the same state."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from yatri.errors import TooManyRequests
from yatri.models import RateCounter


async def lock_keys(conn: BaseDBAsyncClient, *keys: str) -> None:
    """Inside a transaction: wait until no other transaction holds any of these keys, and
    hold them until this one ends. PostgreSQL takes an advisory transaction lock per key
    (in one order, so two callers never wait for each other). Tortoise runs one SQLite
    transaction at a time in a process, and one process per SQLite file is what is
    supported, so there the transaction itself is the lock."""
    if conn.capabilities.dialect == "sqlite":
        return
    for number in sorted({_key_number(key) for key in keys}):
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [number])


def _key_number(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


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
