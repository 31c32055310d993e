"""Bookings: references and seat accounting.

Seats are never sold twice: every change that takes seats checks capacity and writes
the booking in one transaction that holds a lock on the departure (`locked_departure`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from yatri.errors import NotFound
from yatri.models import Booking, BookingStatus, Departure

# No 0/O or 1/I, so a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

# Statuses whose seats count only until `hold_expires_at` (the hold, or the longer
# verification window once a payment is submitted). Confirmed seats always count.
HOLDING_STATUSES = (BookingStatus.HELD, BookingStatus.PENDING_PAYMENT, BookingStatus.PAYMENT_SUBMITTED)


def new_reference() -> str:
    return "YT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def counting_bookings(now: datetime) -> Q:
    """Bookings whose seats are taken at `now`; lapsed holds never count, even before
    the background task marks them expired."""
    return Q(status=BookingStatus.CONFIRMED) | Q(status__in=HOLDING_STATUSES, hold_expires_at__gt=now)


async def seats_taken_by_departure(departure_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """Seats taken per departure id (0 for departures with no counting booking)."""
    ids = list(departure_ids)
    taken = dict.fromkeys(ids, 0)
    if not ids:
        return taken
    rows = (
        await Booking.filter(counting_bookings(now), departure_id__in=ids)
        .annotate(seats_sum=Sum("seats"))
        .group_by("departure_id")
        .values("departure_id", "seats_sum")
    )
    for row in rows:
        taken[row["departure_id"]] = int(row["seats_sum"] or 0)
    return taken


async def seats_taken(departure_id: int, now: datetime) -> int:
    return (await seats_taken_by_departure([departure_id], now))[departure_id]


@asynccontextmanager
async def locked_departure(departure_id: int) -> AsyncIterator[Departure]:
    """A transaction holding the departure's lock: concurrent seat changes wait their turn.

    PostgreSQL: `SELECT ... FOR UPDATE` on the departure row. SQLite has no row locks:
    the transaction's first statement is a write to the row, which takes the database's
    write lock at once (as `BEGIN IMMEDIATE` would), so processes sharing the file queue
    on `busy_timeout` instead of failing on a lock upgrade.
    """
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "sqlite":
            await conn.execute_query("UPDATE departures SET capacity = capacity WHERE id = ?", [departure_id])
            departure = await Departure.get_or_none(id=departure_id).using_db(conn)
        else:
            departure = await Departure.select_for_update().get_or_none(id=departure_id).using_db(conn)
        if departure is None:
            raise NotFound("This departure does not exist.")
        yield departure
