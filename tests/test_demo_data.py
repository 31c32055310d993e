"""`yatri demo-data` fills a realistic catalogue, and a second run changes nothing."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tortoise.functions import Sum

from yatri.demo import ADMIN_EMAIL, ADMIN_PASSWORD, load_demo_data
from yatri.models import Booking, BookingStatus, Departure, Destination, Payment, Role, Traveller, Trip, User
from yatri.services.accounts import verify_password


async def _taken(departure: Departure) -> int:
    rows = await Booking.filter(departure=departure, status=BookingStatus.CONFIRMED).annotate(s=Sum("seats")).values("s")
    return rows[0]["s"] or 0


async def test_demo_data_is_realistic_and_idempotent(client):
    first = await load_demo_data()
    counts = [await Model.all().count() for Model in (Destination, Trip, Departure, Booking, Traveller, Payment, User)]
    second = await load_demo_data()
    assert [await Model.all().count() for Model in (Destination, Trip, Departure, Booking, Traveller, Payment, User)] == counts
    assert second.bookings_added == 0 and first.bookings_added > 0

    assert first.destinations >= 8 and await Trip.filter(is_published=True).count() >= 24
    for kind in ("trek", "tour", "event"):
        assert await Trip.filter(kind=kind).count() >= 8
    today = datetime.now(UTC).date()
    departures = await Departure.all().prefetch_related("trip")
    assert min(d.starts_on for d in departures) > today
    assert max(d.starts_on for d in departures) <= today + timedelta(days=184)
    assert max(d.starts_on for d in departures) > today + timedelta(days=150)
    assert all(d.ends_on == d.starts_on + timedelta(days=d.trip.days - 1) for d in departures)

    taken = {d.id: await _taken(d) for d in departures}
    sold_out = [d for d in departures if taken[d.id] == d.capacity]
    nearly_full = [d for d in departures if 0 < d.capacity - taken[d.id] <= 2]
    assert sold_out and nearly_full
    # Runs the operator stopped, for the pages and the API to show: closed sales, cancelled (nobody on it).
    closed = [d for d in departures if d.sales_closed and d.cancelled_at is None]
    cancelled = [d for d in departures if d.cancelled_at is not None]
    assert closed and cancelled and not any(taken[d.id] for d in cancelled)
    assert any(d.trip.is_published for d in closed) and any(d.trip.is_published for d in sold_out)
    assert all(taken[d.id] <= d.capacity for d in departures)

    booking = await Booking.filter(status=BookingStatus.CONFIRMED).first().prefetch_related("travellers", "payments")
    assert len(booking.travellers) == booking.seats
    assert booking.payments[0].amount_paise == booking.total_paise == booking.subtotal_paise + booking.gst_paise

    admin = await User.get(email=ADMIN_EMAIL)
    assert admin.role == Role.ADMIN and verify_password(admin.password_hash, ADMIN_PASSWORD)


def test_demo_data_command_prints_the_admin_login(tmp_path):
    env = {"DATABASE_URL": f"sqlite://{tmp_path}/demo.sqlite3", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "yatri", "migrate"], env=env, check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "yatri", "demo-data"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"admin login: {ADMIN_EMAIL} / {ADMIN_PASSWORD}" in result.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "yatri", "demo-data"],
        env=env | {"YATRI_ENV": "production", "SECRET_KEY": "k" * 40, "BASE_URL": "https://y.example"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 2 and "refuses to run in production" in refused.stderr


async def test_demo_data_draws_pictures_for_every_trip_and_destination_once(client, tmp_path):
    from yatri.services.media import LocalMediaStore

    store = LocalMediaStore(tmp_path / "media")
    await load_demo_data(store=store)
    files = sorted(p.name for p in (tmp_path / "media").rglob("*.webp"))
    trips, places = await Trip.all(), await Destination.all()
    assert all(len(trip.images) == 2 for trip in trips) and all(len(place.images) == 1 for place in places)
    names = {v["url"].removeprefix("/media/") for item in [*trips, *places] for image in item.images for v in image["variants"]}
    assert all(store.path_of(name) is not None for name in names)
    assert len({trip.images[0]["id"] for trip in trips}) == len(trips)  # a different picture for each
    assert trips[0].images[0]["alt"] and trips[0].images[0]["width"] >= 1000
    page = await (await client.get(f"/trips/{trips[0].slug}")).text()
    assert trips[0].images[0]["variants"][0]["url"] in page
    await load_demo_data(store=store)  # a second run adds no files and keeps the pictures
    assert sorted(p.name for p in (tmp_path / "media").rglob("*.webp")) == files
    assert [t.images for t in await Trip.all()] == [t.images for t in trips]


async def test_a_trip_without_photos_shows_a_styled_placeholder(client):
    await load_demo_data()
    html = await (await client.get("/trips")).text()
    assert html.count('class="img-placeholder card-img" aria-hidden="true"') >= 1
    trip = await Trip.filter(is_published=True).first()
    assert 'class="img-placeholder hero-img"' in await (await client.get(f"/trips/{trip.slug}")).text()
