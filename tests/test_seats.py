"""Seat accounting: which bookings take seats, and the departure lock."""

import asyncio
from datetime import date, datetime, timedelta, timezone

from yatri.models import Booking, BookingStatus, Departure, Destination, Trip, User
from yatri.services.seats import seats_taken, seats_taken_by_departure
from yatri.services.state import locked_departure


async def make_departure(capacity: int = 20) -> Departure:
    destination = await Destination.create(slug="manali", name="Manali", region="Himachal Pradesh")
    trip = await Trip.create(
        slug="hampta-pass", title="Hampta Pass", kind="trek", destination=destination, days=5,
        difficulty="moderate", price_paise=1_200_000, summary="A crossing", is_published=True,
    )
    start = date.today() + timedelta(days=30)
    return await Departure.create(trip=trip, starts_on=start, ends_on=start + timedelta(days=4), capacity=capacity)


async def book(departure, user, seats, status, hold_expires_at=None, n=[0]) -> Booking:
    n[0] += 1
    return await Booking.create(
        reference=f"YT-T{n[0]:04d}", user=user, departure=departure, seats=seats, status=status,
        unit_price_paise=100, subtotal_paise=100 * seats, gst_paise=0, total_paise=100 * seats,
        hold_expires_at=hold_expires_at,
    )


async def test_only_confirmed_and_live_holds_take_seats(client):
    now = datetime.now(timezone.utc)
    departure = await make_departure()
    user = await User.create(email="a@example.com", name="A")
    await book(departure, user, 3, BookingStatus.CONFIRMED)
    await book(departure, user, 2, BookingStatus.HELD, now + timedelta(minutes=10))
    await book(departure, user, 4, BookingStatus.HELD, now - timedelta(seconds=1))  # lapsed
    await book(departure, user, 1, BookingStatus.PAYMENT_SUBMITTED, now + timedelta(hours=40))
    await book(departure, user, 5, BookingStatus.CANCELLED)
    await book(departure, user, 6, BookingStatus.EXPIRED, now - timedelta(hours=1))
    assert await seats_taken(departure.id, now) == 6
    assert await seats_taken(departure.id, now + timedelta(minutes=11)) == 4
    assert await seats_taken_by_departure([departure.id, 999_999], now) == {departure.id: 6, 999_999: 0}


async def test_locked_departure_serialises_concurrent_seat_changes(client):
    """Twenty tasks each take a seat if one is left: with the lock, exactly capacity succeed."""
    departure = await make_departure(capacity=5)
    user = await User.create(email="b@example.com", name="B")
    now = datetime.now(timezone.utc)

    async def take_one() -> bool:
        async with locked_departure(departure.id) as locked:
            if await seats_taken(locked.id, now) >= locked.capacity:
                return False
            await asyncio.sleep(0)  # let the others run between check and write
            await book(locked, user, 1, BookingStatus.CONFIRMED)
            return True

    results = await asyncio.gather(*(take_one() for _ in range(20)))
    assert results.count(True) == 5
    assert await seats_taken(departure.id, now) == 5
