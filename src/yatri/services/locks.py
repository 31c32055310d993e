"""Locks for a change, taken in one order (pretix's `lock_objects` is the model).

A change that must not race another locks the rows it decides on, inside its
transaction, before it reads them. PostgreSQL: `SELECT ... FOR UPDATE`. SQLite has no
row locks: the first statement is a write that changes nothing, which takes the
database's write lock at once (as `BEGIN IMMEDIATE` would), so processes sharing the
file queue on `busy_timeout` instead of failing on a lock upgrade.

Lock order, to avoid deadlocks: tables in LOCK_ORDER, rows in id order within a table.
A change that needs several locks asks for them in one `lock` call, which sorts them;
a nested change (cancelling each booking of a departure) only adds later tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from yatri.errors import NotFound
from yatri.models import Booking, Departure, Destination, RefreshToken, Trip, User

LOCK_ORDER: tuple[type[Model], ...] = (Destination, Trip, Departure, Booking, User, RefreshToken)


@dataclass(frozen=True)
class Rows:
    """The rows of `model` matching `lookups` (Tortoise filter arguments)."""

    model: type[Model]
    lookups: dict[str, Any] = field(default_factory=dict)


def rows(model: type[Model], **lookups: Any) -> Rows:
    return Rows(model, lookups)


async def lock(conn: BaseDBAsyncClient, *wanted: Rows) -> list[list[Model]]:
    """Lock every wanted row until `conn`'s transaction ends, in the lock order; returns
    the rows of each `Rows` in the order asked, each list in id order."""
    found: list[list[Model]] = [[] for _ in wanted]
    sqlite = conn.capabilities.dialect == "sqlite"
    if sqlite and wanted:
        await conn.execute_query(f"UPDATE {wanted[0].model._meta.db_table} SET id = id WHERE 0")
    for index in sorted(range(len(wanted)), key=lambda i: LOCK_ORDER.index(wanted[i].model)):
        query = wanted[index].model.filter(**wanted[index].lookups).order_by("id").using_db(conn)
        found[index] = list(await (query if sqlite else query.select_for_update()))
    return found


@asynccontextmanager
async def locked(model: type[Model], missing: str, **lookups: Any) -> AsyncIterator[Model]:
    """A transaction holding the lock of the one row matching `lookups`; NotFound(missing)
    when there is none."""
    async with in_transaction() as conn:
        [found] = await lock(conn, rows(model, **lookups))
        if not found:
            raise NotFound(missing)
        yield found[0]


async def lock_keys(conn: BaseDBAsyncClient, *keys: str) -> None:
    """Locks on names rather than rows, for count-then-record steps: wait until no other
    transaction holds any of these keys, and hold them until this one ends. PostgreSQL
    takes an advisory transaction lock per key, in sorted order. Tortoise runs one SQLite
    transaction at a time in a process, and one process per SQLite file is what is
    supported, so there the transaction itself is the lock. No change takes both keys
    and rows."""
    if conn.capabilities.dialect == "sqlite":
        return
    for number in sorted({_key_number(key) for key in keys}):
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [number])


def _key_number(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
