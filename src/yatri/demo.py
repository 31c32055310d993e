"""`yatri demo-data`: load the demo catalogue, departures, bookings and an admin. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tortoise.transactions import in_transaction

from yatri.demo_catalogue import DESTINATIONS, DEMO_TRAVELLERS, TRIPS
from yatri.demo_images import scene
from yatri.models import (
    Booking,
    BookingStatus,
    Departure,
    Destination,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Traveller,
    Trip,
    User,
)
from yatri.services.accounts import create_admin
from yatri.services.audit import record
from yatri.services.booking import new_reference
from yatri.services.catalogue import bump_version
from yatri.services.media import MediaStore
from yatri.services.pricing import departure_breakdown

ADMIN_EMAIL = "admin@yatri.example"
ADMIN_PASSWORD = "namaste-yatri-demo"
HORIZON_DAYS = 183  # departures over the next six months
_TRIP_FIELDS = (
    "title", "kind", "days", "difficulty", "price_paise", "summary", "description", "itinerary",
    "inclusions", "exclusions", "cancellation_policy", "max_per_booking", "featured", "is_published",
)  # fmt: skip


@dataclass
class DemoSummary:
    destinations: int
    trips: int
    departures: int
    bookings_added: int
    admin_email: str
    admin_password: str


async def load_demo_data(today: date | None = None, store: MediaStore | None = None) -> DemoSummary:
    """The demo catalogue, bookings and admin; with a media `store`, drawn pictures
    (yatri.demo_images) for every trip and destination that has none."""
    today = today or datetime.now(UTC).date()
    async with in_transaction():
        destinations = {}
        for item in DESTINATIONS:
            destinations[item["slug"]], _ = await Destination.update_or_create(
                defaults={k: v for k, v in item.items() if k != "slug"}, slug=item["slug"]
            )
        travellers = [await _demo_traveller(person) for person in DEMO_TRAVELLERS]
        bookings_added = 0
        for index, item in enumerate(TRIPS):
            trip, _ = await Trip.update_or_create(
                defaults={k: item[k] for k in _TRIP_FIELDS} | {"destination": destinations[item["destination"]]},
                slug=item["slug"],
            )
            for position, starts_on in enumerate(_departure_dates(index, item["departure_every_days"], today)):
                departure, created = await Departure.get_or_create(
                    trip=trip,
                    starts_on=starts_on,
                    defaults={"ends_on": starts_on + timedelta(days=trip.days - 1), "capacity": item["capacity"],
                              **_demo_sales(index, position)},
                )  # fmt: skip
                if created and departure.cancelled_at is None:
                    departure.trip = trip
                    seats = _demo_seats_taken(index, position, departure.capacity)
                    bookings_added += await _fill(departure, seats, travellers, index + position)
        admin, _ = await create_admin(ADMIN_EMAIL, ADMIN_PASSWORD, name="Yatri Operator")
        await bump_version()  # every process drops its cached catalogue queries
    if store is not None:
        await _add_pictures(store)
    return DemoSummary(
        destinations=await Destination.all().count(),
        trips=await Trip.all().count(),
        departures=await Departure.all().count(),
        bookings_added=bookings_added,
        admin_email=admin.email,
        admin_password=ADMIN_PASSWORD,
    )


async def _add_pictures(store: MediaStore) -> None:
    """Two pictures per trip (a cover and one more for the gallery) and one per destination,
    stored before the rows name them."""
    for place in [d for d in await Destination.all() if not d.images]:
        image = await store.store(scene(place.slug, "trek", place.slug), alt=f"Hills at {place.name}")
        await Destination.filter(id=place.id).update(images=[image])
    for trip in [t for t in await Trip.all().select_related("destination") if not t.images]:
        images = [
            await store.store(scene(f"{trip.slug}-{n}", trip.kind, trip.destination.slug), alt=f"{trip.title}: view {n}")
            for n in (1, 2)
        ]
        await Trip.filter(id=trip.id).update(images=images)
    await bump_version()


def _departure_dates(index: int, every: int, today: date) -> list[date]:
    """Dates on a fixed cadence, so that a rerun on a later day finds the same departures."""
    first = today + timedelta(days=3)
    offset = (index * 5 - first.toordinal()) % every
    start = first + timedelta(days=offset)
    return [start + timedelta(days=d) for d in range(0, HORIZON_DAYS - 3 - offset, every)]


def _demo_sales(index: int, position: int) -> dict:
    """A few runs the operator stopped: sales closed on some, cancelled (nobody booked) on others."""
    if position == 2 and index % 4 == 2:
        return {"sales_closed": True}
    if position == 3 and index % 4 == 3:
        return {"cancelled_at": datetime.now(UTC)}
    return {}


def _demo_seats_taken(index: int, position: int, capacity: int) -> int:
    """A believable spread: the first runs of some trips sold out or nearly, later runs emptier."""
    if position == 0 and index % 4 == 0:
        return capacity  # sold out
    if position <= 1 and index % 3 == 1:
        return max(capacity - 2, 1)  # filling fast
    share = ((index * 7 + position * 13) % 10) / 20  # 0 to 45 %
    return int(capacity * share / (1 + position / 3))


async def _demo_traveller(person: dict) -> User:
    """A traveller who owns demo bookings; without a password, nobody can sign in as them."""
    user, _ = await User.get_or_create(
        email=person["email"],
        defaults={"name": person["name"], "phone": person["phone"], "email_verified": True},
    )
    return user


async def _fill(departure: Departure, seats: int, users: list[User], seed: int) -> int:
    """Confirmed, paid bookings of up to four seats each, until `seats` are taken."""
    count = 0
    while seats > 0:
        user = users[(seed + count) % len(users)]
        size = min(seats, 1 + (seed + count) % 4)
        price = departure_breakdown(departure, size)
        booking = await Booking.create(
            reference=new_reference(),
            user=user,
            departure=departure,
            seats=size,
            status=BookingStatus.CONFIRMED,
            unit_price_paise=price.unit_paise,
            subtotal_paise=price.subtotal_paise,
            discount_percent=price.discount_percent,
            discount_paise=price.discount_paise,
            gst_paise=price.gst_paise,
            gst_percent=price.gst_percent,
            total_paise=price.total_paise,
        )
        await Traveller.bulk_create(
            [
                Traveller(
                    booking=booking,
                    position=n,
                    full_name=user.name if n == 1 else f"{user.name.split()[0]}'s companion {n - 1}",
                    age=24 + (seed + n * 5) % 30,
                    phone=user.phone if n == 1 else None,
                    email=user.email if n == 1 else None,
                )
                for n in range(1, size + 1)
            ]
        )
        await Payment.create(
            booking=booking,
            method=PaymentMethod.UPI_QR,
            amount_paise=price.total_paise,
            status=PaymentStatus.VERIFIED,
            utr=f"9{booking.id:011d}",  # demo UTRs start with 9
            submitted_at=datetime.now(UTC),
            verified_at=datetime.now(UTC),
        )
        await record("booking", booking.reference, "confirmed", None, BookingStatus.CONFIRMED, data={"source": "demo-data"})
        seats -= size
        count += 1
    return count
