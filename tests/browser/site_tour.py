"""A tour of the whole site for the layout and accessibility tests: the demo catalogue, a
traveller with a booking waiting for verification, and the address of every page (public,
traveller, admin, error states) with real ids filled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from yatri.demo import ADMIN_EMAIL, ADMIN_PASSWORD, load_demo_data
from yatri.models import Booking, BookingStatus, Departure, Destination, Payment, PaymentMethod, PaymentStatus, Traveller, Trip

from tests.helpers import PASSWORD, make_user

TRAVELLER = "asha@example.com"
# Admin GET routes that are not pages: a download, and the inline editor's fragments.
NOT_PAGES = ("/manifest.csv", "/fields/{field}")  # endings


@dataclass
class Tour:
    public: list[str] = field(default_factory=list)
    traveller: list[str] = field(default_factory=list)
    admin: list[str] = field(default_factory=list)


async def seed_site(app: web.Application) -> Tour:
    await load_demo_data()
    asha = await make_user(TRAVELLER, name="Asha Rao")
    departure = await Departure.filter(sales_closed=False, cancelled_at=None).order_by("starts_on").offset(5).first()
    booking = await Booking.create(
        reference="YT-TOUR01", user=asha, departure=departure, seats=2, status=BookingStatus.PAYMENT_SUBMITTED,
        unit_price_paise=995_000, subtotal_paise=1_990_000, gst_paise=99_500, total_paise=2_089_500,
        hold_expires_at=datetime.now(UTC) + timedelta(hours=40),
    )  # fmt: skip
    await Traveller.create(booking=booking, position=1, full_name="Asha Rao", age=31, phone="+919876543210", email=TRAVELLER)
    await Traveller.create(booking=booking, position=2, full_name="Ravi Rao", age=33)
    await Payment.create(
        booking=booking, method=PaymentMethod.UPI_QR, amount_paise=2_089_500, status=PaymentStatus.SUBMITTED,
        utr="412345678901", submitted_at=datetime.now(UTC),
    )  # fmt: skip
    held = await Booking.create(
        reference="YT-TOUR02", user=asha, departure=departure, seats=1, status=BookingStatus.HELD,
        unit_price_paise=995_000, subtotal_paise=995_000, gst_paise=49_750, total_paise=1_044_750,
        hold_expires_at=datetime.now(UTC) + timedelta(minutes=14),
    )  # fmt: skip
    await Traveller.create(booking=held, position=1, full_name="Asha Rao", age=31, phone="+919876543210", email=TRAVELLER)
    trip = await Trip.filter(is_published=True).order_by("id").first()
    place = await Destination.all().order_by("id").first()
    ids = {"trip": trip.id, "destination": place.id, "departure": departure.id, "booking": booking.reference}
    return Tour(
        public=[
            "/", "/trips", "/trips?kind=trek&sort=price", f"/trips/{trip.slug}", f"/destinations/{place.slug}",
            "/login", "/signup", "/password-reset", "/no-such-page", "/trips/no-such-trip",
        ],
        traveller=[
            "/account", "/bookings", f"/bookings/{booking.reference}", f"/bookings/{booking.reference}/receipt",
            f"/bookings/{held.reference}/pay", f"/bookings/{booking.reference}/travellers",
            f"/bookings/{booking.reference}/cancel", f"/departures/{departure.id}/book",
        ],
        admin=admin_pages(app, ids),
    )


def admin_pages(app: web.Application, ids: dict) -> list[str]:
    """Every admin page in the router, its ids filled from the tour's data."""
    pages = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "GET" or not path.startswith("/admin") or path.endswith(NOT_PAGES):
            continue
        kind = "trip" if path.startswith("/admin/trips") else "destination" if path.startswith("/admin/destinations") else "departure"
        path = path.replace("{id}", str(ids[kind])).replace("{ref}", ids["booking"])
        pages.append(path.replace("{field}/edit", "title/edit"))
    return pages


async def sign_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base_url}/login")
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)


async def sign_in_admin(page, base_url: str) -> None:
    await sign_in(page, base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
