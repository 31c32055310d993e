"""A small catalogue for the catalogue tests, written straight to the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from yatri.models import Booking, BookingStatus, Departure, Destination, Trip, User

TODAY = datetime.now(UTC).date()
# Published trips that are not the twelve "Coastal walk" fillers.
MAIN_TRIPS = ("hampta-pass-trek", "bhrigu-lake-trek", "goa-carnival", "hampi-ruins-walk")


async def _trip(slug, title, kind, destination, difficulty, rupees, days, starts, *, published=True,
                featured=False, description="", capacity=10):  # fmt: skip
    trip = await Trip.create(
        slug=slug, title=title, kind=kind, destination=destination, days=days, difficulty=difficulty,
        price_paise=rupees * 100, summary=f"{title} in {destination.name}.", description=description,
        is_published=published, featured=featured,
        itinerary=[{"day": n, "title": f"Day {n} of {title}", "details": "Walk."} for n in range(1, days + 1)],
        inclusions=["Guide"], exclusions=["Insurance"],
        cancellation_policy=[{"min_days": 30, "percent": 90}, {"min_days": 0, "percent": 0}],
    )  # fmt: skip
    for offset in starts:
        start = TODAY + timedelta(days=offset)
        await Departure.create(trip=trip, starts_on=start, ends_on=start + timedelta(days=days - 1), capacity=capacity)
    return trip


async def make_catalogue() -> dict[str, Trip]:
    manali = await Destination.create(slug="manali", name="Manali", region="Himachal Pradesh")
    goa = await Destination.create(slug="goa", name="Goa", region="Konkan coast")
    hampi = await Destination.create(slug="hampi", name="Hampi", region="Karnataka")
    trips = {
        "hampta-pass-trek": await _trip("hampta-pass-trek", "Hampta Pass Trek", "trek", manali, "moderate", 9950, 5, [10, 40], featured=True),
        "bhrigu-lake-trek": await _trip("bhrigu-lake-trek", "Bhrigu Lake Trek", "trek", manali, "moderate", 7450, 4, [5]),
        "goa-carnival": await _trip("goa-carnival", "Goa Carnival", "event", goa, "easy", 3000, 2, [60], description="Music, floats and dancing."),
        "hampi-ruins-walk": await _trip("hampi-ruins-walk", "Hampi Ruins Walk", "tour", hampi, "easy", 4500, 3, [20], description="Boulders 100% of the way, and temples_old."),
        "secret-trek": await _trip("secret-trek", "Secret Trek", "trek", manali, "challenging", 20000, 6, [15], published=False),
        "old-tour": await _trip("old-tour", "Old Goa Tour", "tour", goa, "easy", 12000, 7, [-5]),
    }  # fmt: skip
    for n in range(1, 13):
        trips[f"coastal-walk-{n}"] = await _trip(
            f"coastal-walk-{n}", f"Coastal walk {n:02d}", "tour", goa, "easy", 1000 + n, 1, [70 + n]
        )
    return trips


async def book(departure: Departure, seats: int, status=BookingStatus.CONFIRMED, hold_expires_at=None) -> Booking:
    user = await User.get_or_none(email="traveller@example.com") or await User.create(
        email="traveller@example.com", name="Traveller"
    )
    count = await Booking.all().count()
    return await Booking.create(
        reference=f"YT-C{count + 1:04d}", user=user, departure=departure, seats=seats, status=status,
        unit_price_paise=100, subtotal_paise=100 * seats, gst_paise=0, total_paise=100 * seats,
        hold_expires_at=hold_expires_at,
    )  # fmt: skip


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)
