"""Catalogue and bookings for admin tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from yatri.models import Booking, BookingStatus, Departure, Destination, Traveller, Trip, User

_counter = iter(range(1, 1_000_000))


async def make_trip(slug: str = "hampta-pass", title: str = "Hampta Pass", price_paise: int = 1_200_000) -> Trip:
    destination = await Destination.get_or_none(slug="manali") or await Destination.create(
        slug="manali", name="Manali", region="Himachal Pradesh"
    )
    return await Trip.create(
        slug=slug, title=title, kind="trek", destination=destination, days=5, difficulty="moderate",
        price_paise=price_paise, summary="A crossing", is_published=True,
    )  # fmt: skip


async def make_departure(trip: Trip, starts_on: date, capacity: int = 20, **fields) -> Departure:
    return await Departure.create(
        trip=trip, starts_on=starts_on, ends_on=starts_on + timedelta(days=trip.days - 1), capacity=capacity, **fields
    )


async def make_booking(
    departure: Departure,
    user: User,
    seats: int = 1,
    status: BookingStatus = BookingStatus.CONFIRMED,
    *,
    total_paise: int = 100_000,
    hold_expires_at: datetime | None = None,
    created_at: datetime | None = None,
    travellers: list[dict] | None = None,
    reference: str | None = None,
) -> Booking:
    booking = await Booking.create(
        reference=reference or f"YT-B{next(_counter):05d}", user=user, departure=departure, seats=seats, status=status,
        unit_price_paise=total_paise // seats, subtotal_paise=total_paise, gst_paise=0, total_paise=total_paise,
        hold_expires_at=hold_expires_at,
    )  # fmt: skip
    if created_at is not None:  # auto_now_add ignores a given value
        await Booking.filter(id=booking.id).update(created_at=created_at)
        booking.created_at = created_at
    for position, traveller in enumerate(travellers or [], start=1):
        await Traveller.create(booking=booking, position=position, **traveller)
    return booking
