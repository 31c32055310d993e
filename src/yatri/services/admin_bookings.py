"""The operator's side of bookings: find them, read one in full, and the traveller
manifest of a departure as CSV.

Status changes (manual confirm, cancel with a refund) are the booking service's
(`confirm_booking`, `cancel_booking`); this module only reads.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from yatri.errors import NotFound
from yatri.models import AuditLog, Booking, BookingStatus, Departure, Payment, PaymentStatus, Refund, Trip
from yatri.parsing import record_id
from yatri.services.admin_audit import Entry, entry
from yatri.services.booking import booking_reference
from yatri.services.refunds import RefundQuote, refund_quote
from yatri.services.seats import counting_bookings
from yatri.services.state import STATUS_LABELS
from yatri.services.money import rupees
from yatri.services.paging import Page, paginate

PER_PAGE = 30
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class BookingFilters:
    trip: int | None = None
    departure: int | None = None
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def query_params(self) -> dict[str, str]:
        params = {"trip": str(self.trip or ""), "departure": str(self.departure or ""), "status": self.status,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}  # fmt: skip
        return {key: value for key, value in params.items() if value}


async def search(filters: BookingFilters, zone: ZoneInfo, page: int = 1) -> Page:
    """Bookings matching the filters (booked between the dates, in the operator's zone), newest first."""
    query = Booking.all().select_related("user", "departure", "departure__trip")
    if filters.trip is not None:
        query = query.filter(departure__trip_id=filters.trip)
    if filters.departure is not None:
        query = query.filter(departure_id=filters.departure)
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.date_from:
        query = query.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=zone))
    if filters.date_to:
        query = query.filter(created_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone))
    return await paginate(query.order_by("-created_at", "-id"), page, PER_PAGE)


async def filter_choices(trip_id: int | None) -> tuple[list[Trip], list[Departure]]:
    """Every trip, and the departures of the chosen trip."""
    trips = list(await Trip.all().order_by("title"))
    departures = list(await Departure.filter(trip_id=trip_id).order_by("starts_on")) if trip_id else []
    return trips, departures


# ---------------------------------------------------------------- one booking


@dataclass(frozen=True)
class BookingDetail:
    booking: Booking
    payments: list[Payment]
    refunds: list[Refund]
    timeline: list[Entry]
    paid_paise: int
    quote: RefundQuote

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[BookingStatus(self.booking.status)]

    @property
    def refunded_paise(self) -> int:
        return sum(r.amount_paise for r in self.refunds)


async def get_booking(reference: str) -> Booking:
    reference = booking_reference(reference)
    booking = reference and await Booking.get_or_none(reference=reference).select_related("user", "departure", "departure__trip")
    if booking is None:
        raise NotFound("There is no booking with this reference.")
    return booking


async def detail(reference: str, today: date) -> BookingDetail:
    """A booking with its travellers, payments, refunds and every audit row about it
    (the booking's, its payments' and its refunds'), oldest first."""
    booking = await get_booking(reference)
    await booking.fetch_related("travellers")
    payments = list(await Payment.filter(booking_id=booking.id).select_related("verified_by").order_by("id"))
    refunds = list(await Refund.filter(booking_id=booking.id).order_by("id"))
    about = Q(entity="booking", entity_id=booking.reference)
    for entity, records in (("payment", payments), ("refund", refunds)):
        if records:
            about |= Q(entity=entity, entity_id__in=[str(r.id) for r in records])
    rows = await AuditLog.filter(about).select_related("actor").order_by("created_at", "id")
    paid = sum(p.amount_paise for p in payments if p.status == PaymentStatus.VERIFIED)
    return BookingDetail(booking, payments, refunds, [entry(r) for r in rows], paid, await refund_quote(booking, today))


# ---------------------------------------------------------------- the manifest


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs: formula starts get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


MANIFEST_HEADER = (
    "Booking", "Status", "Payment", "Traveller", "Name", "Age", "Gender", "Phone", "Email",
    "Emergency contact", "Emergency phone",
)  # fmt: skip


def payment_state(booking: Booking, payments: list[Payment]) -> str:
    paid = sum(p.amount_paise for p in payments if p.status == PaymentStatus.VERIFIED)
    if paid >= booking.total_paise:
        return f"Paid {rupees(paid)}"
    if any(p.status == PaymentStatus.SUBMITTED for p in payments):
        return f"Payment being checked (paid {rupees(paid)} of {rupees(booking.total_paise)})"
    return f"Paid {rupees(paid)} of {rupees(booking.total_paise)}" if paid else f"Unpaid ({rupees(booking.total_paise)} due)"


async def manifest(departure_id: int | str, now: datetime) -> tuple[Departure, str]:
    """The departure and its traveller manifest as CSV text: one line per traveller of
    every booking whose seats count now (confirmed, and holds that have not lapsed)."""
    departure = await Departure.get_or_none(id=record_id(departure_id, "departure")).select_related("trip")
    if departure is None:
        raise NotFound("There is no such departure.")
    bookings = list(await Booking.filter(counting_bookings(now), departure_id=departure.id).prefetch_related("travellers").order_by("id"))
    payments: dict[int, list[Payment]] = {b.id: [] for b in bookings}
    for payment in await Payment.filter(booking_id__in=list(payments) or [0]):
        payments[payment.booking_id].append(payment)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MANIFEST_HEADER)
    for booking in bookings:
        state = payment_state(booking, payments[booking.id])
        for t in sorted(booking.travellers, key=lambda t: t.position):
            writer.writerow([csv_cell(v) for v in (
                booking.reference, STATUS_LABELS[BookingStatus(booking.status)], state, t.position, t.full_name, t.age,
                t.gender, t.phone, t.email, t.emergency_contact_name, t.emergency_contact_phone,
            )])  # fmt: skip
    return departure, out.getvalue()
