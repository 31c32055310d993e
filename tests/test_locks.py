"""The one lock helper: rows locked in the lock order, a second change waits its turn."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tortoise.transactions import in_transaction

from yatri.errors import NotFound
from yatri.models import Booking, Departure
from yatri.services.locks import lock, locked, rows

from tests.booking_data import hold, make_departure
from tests.helpers import make_user


async def test_lock_takes_tables_in_the_lock_order_whatever_order_they_are_asked_in(client, caplog):
    booking = await hold(await make_user(), await make_departure())
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    async with in_transaction() as conn:
        bookings, departures = await lock(conn, rows(Booking, id=booking.id), rows(Departure, id=booking.departure_id))
    assert ([b.id for b in bookings], [d.id for d in departures]) == ([booking.id], [booking.departure_id])
    selects = [r.getMessage() for r in caplog.records if r.getMessage().lstrip().upper().startswith("SELECT")]
    tables = [name for text in selects for name in ("departures", "bookings") if f'FROM "{name}"' in text]
    assert tables == ["departures", "bookings"]


async def test_two_changes_asking_in_opposite_orders_never_deadlock(client):
    """Without the one order, these pairs interleave into deadlocks on PostgreSQL."""
    departure = await make_departure()
    booking = await hold(await make_user(), departure)

    async def change(reverse: bool) -> int:
        wanted = [rows(Departure, id=departure.id), rows(Booking, id=booking.id)]
        async with in_transaction() as conn:
            found = await lock(conn, *(reversed(wanted) if reverse else wanted))
            await asyncio.sleep(0.01)
            return len(found)

    assert await asyncio.gather(*(change(n % 2 == 1) for n in range(12))) == [2] * 12


async def test_a_second_change_waits_until_the_first_commits(client):
    departure = await make_departure(capacity=5)
    order: list[str] = []

    async def first() -> None:
        async with locked(Departure, "gone", id=departure.id) as row:
            await asyncio.sleep(0.2)
            row.capacity = 6
            await row.save(update_fields=["capacity"])
            order.append("first")

    async def second() -> None:
        await asyncio.sleep(0.05)
        async with locked(Departure, "gone", id=departure.id) as row:
            order.append(f"second saw {row.capacity}")

    await asyncio.gather(first(), second())
    assert order == ["first", "second saw 6"]


async def test_locking_a_missing_row_is_not_found(client):
    with pytest.raises(NotFound, match="no such thing"):
        async with locked(Departure, "There is no such thing.", id=999_999):
            pass
