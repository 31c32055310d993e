"""Bookings: holding seats, the status of a booking, traveller details, cancellation.

Seats are never sold twice: every change that takes seats checks capacity and writes
the booking in one transaction that holds a lock on the departure (`locked_departure`).
Every status change goes through `set_status`, inside the change's transaction, which
writes the audit row the booking's timeline is made of.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import (
    AuditLog, Booking, BookingStatus, Departure, Payment, PaymentStatus, Refund, RefundStatus, Traveller, User,
)  # fmt: skip
from yatri.services.audit import record
from yatri.services.locks import lock, locked, rows
from yatri.services.notify import Notifier
from yatri.services.pricing import price_breakdown
from yatri.services.travellers import TravellerInput, saved_details

# No 0/O or 1/I, so a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_REFERENCE = re.compile(r"[A-Z0-9-]{1,12}")  # bookings.reference

# Statuses whose seats count only until `hold_expires_at` (the hold, or the longer
# verification window once a payment is submitted). Confirmed seats always count.
MAX_SEATS = 50  # the most seats one booking may ever hold (a trip sets its own limit up to this)
HOLDING_STATUSES = (BookingStatus.HELD, BookingStatus.PENDING_PAYMENT, BookingStatus.PAYMENT_SUBMITTED)


def new_reference() -> str:
    return "YT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def listed_departures(today: date) -> Q:
    """Departures travellers see: not started (a run leaving today is no longer sold)
    and not cancelled by the operator. Closed sales are listed, without a Book link."""
    return Q(starts_on__gt=today, cancelled_at__isnull=True)


def counting_bookings(now: datetime) -> Q:
    """Bookings whose seats are taken at `now`; lapsed holds never count, even before
    the periodic job (yatri.jobs) marks them expired."""
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
    """A transaction holding the departure's lock: concurrent seat changes wait their turn."""
    async with locked(Departure, "This departure does not exist.", id=departure_id) as departure:
        yield departure


@asynccontextmanager
async def locked_booking(reference: str) -> AsyncIterator[Booking]:
    """A transaction holding the booking's row lock, with its departure and trip fetched."""
    async with locked(Booking, "We could not find that booking.", reference=reference) as booking:
        await booking.fetch_related("departure__trip")
        yield booking


@asynccontextmanager
async def locked_departure_and_booking(reference: str) -> AsyncIterator[Booking]:
    """Both locks, for changes that may take seats back for a booking (a lapsed hold
    confirmed or paid late); `booking.departure` is the locked row."""
    found = await Booking.get_or_none(reference=reference).only("id", "departure_id")
    if found is None:
        raise NotFound("We could not find that booking.")
    async with in_transaction() as conn:
        departures, bookings = await lock(conn, rows(Departure, id=found.departure_id), rows(Booking, id=found.id))
        if not (departures and bookings):
            raise NotFound("We could not find that booking.")
        departure, booking = departures[0], bookings[0]
        await departure.fetch_related("trip")
        booking.departure = departure
        yield booking


def holds_seats(booking: Booking, now: datetime) -> bool:
    """Whether this booking's seats count at `now`: `counting_bookings` for one booking."""
    if booking.status == BookingStatus.CONFIRMED:
        return True
    return booking.status in HOLDING_STATUSES and booking.hold_expires_at is not None and booking.hold_expires_at > now


# Which status may follow which; anything else is refused.
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.HELD: frozenset(
        {BookingStatus.PENDING_PAYMENT, BookingStatus.PAYMENT_SUBMITTED, BookingStatus.CONFIRMED,
         BookingStatus.CANCELLED, BookingStatus.EXPIRED}
    ),
    BookingStatus.PENDING_PAYMENT: frozenset(
        {BookingStatus.PAYMENT_SUBMITTED, BookingStatus.CONFIRMED, BookingStatus.CANCELLED, BookingStatus.EXPIRED}
    ),
    BookingStatus.PAYMENT_SUBMITTED: frozenset(
        {BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED, BookingStatus.CANCELLED, BookingStatus.EXPIRED}
    ),
    BookingStatus.EXPIRED: frozenset({BookingStatus.PAYMENT_SUBMITTED}),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CANCELLED}),
    BookingStatus.CANCELLED: frozenset({BookingStatus.REFUNDED}),
    BookingStatus.REFUNDED: frozenset(),
}

STATUS_LABELS = {
    BookingStatus.HELD: "Seats held",
    BookingStatus.PENDING_PAYMENT: "Waiting for payment",
    BookingStatus.PAYMENT_SUBMITTED: "Payment being checked",
    BookingStatus.CONFIRMED: "Confirmed",
    BookingStatus.CANCELLED: "Cancelled",
    BookingStatus.REFUNDED: "Refunded",
    BookingStatus.EXPIRED: "Hold expired",
}


async def set_status(
    booking: Booking,
    to: BookingStatus,
    *,
    actor: User | None,
    action: str | None = None,
    data: dict | None = None,
    **fields,
) -> Booking:
    """Move a booking to `to` and write its audit row; call inside the change's transaction."""
    before = BookingStatus(booking.status)
    if to not in TRANSITIONS[before]:
        raise Conflict(f"This booking is {STATUS_LABELS[before].lower()}, so it cannot be {to.replace('_', ' ')} now.")
    booking.status = to
    for name, value in fields.items():
        setattr(booking, name, value)
    booking.version += 1
    await booking.save(update_fields=["status", "version", "updated_at", *fields])
    await record("booking", booking.reference, action or str(to), before, to, actor=actor, data=data)
    return booking


# ---------------------------------------------------------------- holding seats


class SeatsUnavailable(Conflict):
    """Fewer seats are left than asked for; `seats_left` says how many (0: sold out)."""

    def __init__(self, seats_left: int) -> None:
        if seats_left <= 0:
            message = "Sorry, this departure is sold out. Please choose another date."
        else:
            s = "seat is" if seats_left == 1 else "seats are"
            message = f"Only {seats_left} {s} left on this departure. Choose fewer travellers."
        super().__init__(message, field="count")
        self.seats_left = seats_left


def check_bookable(departure: Departure, today: date) -> None:
    """A departure that sells seats today: of a published trip, open, not yet started."""
    if not departure.trip.is_published:
        raise NotFound("This trip is not offered any more.")
    if departure.cancelled_at is not None:
        raise Conflict("The operator has cancelled this departure. Please choose another date.")
    if departure.starts_on <= today:
        raise Conflict("This departure has already started. Please choose a later date.")
    if departure.sales_closed:
        raise Conflict("Booking for this departure has closed. Please choose another date.")


def check_count(departure: Departure, count: int) -> None:
    limit = departure.trip.max_per_booking
    if not 1 <= count <= limit:
        raise ValidationError({"count": f"Choose from 1 to {limit} travellers per booking."})


async def bookable_departure(departure_id: int, today: date) -> Departure:
    """The departure with its trip, checked as on the booking form (NotFound/Conflict)."""
    departure = await Departure.get_or_none(id=departure_id).select_related("trip", "trip__destination")
    if departure is None:
        raise NotFound("We could not find that departure.")
    check_bookable(departure, today)
    return departure


async def hold_seats(
    user: User,
    departure_id: int,
    travellers: list[TravellerInput],
    *,
    idempotency_key: str | None,
    now: datetime,
    today: date,
    hold_minutes: int,
    gst_percent: int,
    notifier: Notifier | None = None,
) -> Booking:
    """Hold seats for these travellers: a `held` booking that lapses after `hold_minutes`,
    mailed to the lead traveller through `notifier` once committed.

    A second request with the same idempotency key (a double tap, a retry) returns the
    first booking instead of making another, and sends no second mail. Keys are kept
    per user, so nobody can reach another user's booking through its key.
    """
    key = _scoped_key(user, idempotency_key)
    if key and (earlier := await Booking.get_or_none(idempotency_key=key)):
        return earlier
    try:
        async with locked_departure(departure_id) as departure:
            await departure.fetch_related("trip")
            check_bookable(departure, today)
            check_count(departure, len(travellers))
            left = departure.capacity - await seats_taken(departure.id, now)
            if len(travellers) > left:
                raise SeatsUnavailable(left)
            booking = await _create_booking(user, departure, travellers, key, now, hold_minutes, gst_percent)
    except IntegrityError:
        # The same key committed by a concurrent request between our check and our insert.
        if key and (earlier := await Booking.get_or_none(idempotency_key=key)):
            return earlier
        raise
    if notifier is not None:
        await send_booking_mail(notifier, booking, "held")
    return booking


def _scoped_key(user: User, idempotency_key: str | None) -> str | None:
    if not idempotency_key:
        return None
    return hashlib.sha256(f"{user.id}:{idempotency_key}".encode()).hexdigest()


async def _create_booking(user, departure, travellers, idempotency_key, now, hold_minutes, gst_percent) -> Booking:
    price = price_breakdown(departure.unit_price_paise, len(travellers), gst_percent)
    booking = await Booking.create(
        reference=new_reference(),
        user=user,
        departure=departure,
        seats=len(travellers),
        status=BookingStatus.HELD,
        unit_price_paise=price.unit_paise,
        subtotal_paise=price.subtotal_paise,
        gst_paise=price.gst_paise,
        total_paise=price.total_paise,
        hold_expires_at=now + timedelta(minutes=hold_minutes),
        idempotency_key=idempotency_key or None,
    )
    await Traveller.bulk_create(
        [Traveller(booking=booking, position=n, **t.as_dict()) for n, t in enumerate(travellers, start=1)]
    )
    await record(
        "booking", booking.reference, "held", None, BookingStatus.HELD, actor=user,
        data={"seats": booking.seats, "total_paise": booking.total_paise},
    )  # fmt: skip
    return booking


async def expire_lapsed_holds(now: datetime) -> list[Booking]:
    """Mark holds whose time ran out as expired (their seats stopped counting already)."""
    references = await Booking.filter(status__in=HOLDING_STATUSES, hold_expires_at__lte=now).values_list(
        "reference", flat=True
    )
    expired = []
    for reference in references:
        async with locked_booking(reference) as booking:
            if booking.status in HOLDING_STATUSES and booking.hold_expires_at <= now:
                expired.append(await set_status(booking, BookingStatus.EXPIRED, actor=None, data={"hold_expired_at": booking.hold_expires_at.isoformat()}))
    return expired


# ---------------------------------------------------------------- money back


@dataclass(frozen=True)
class RefundQuote:
    days_before: int
    percent: int
    paid_paise: int
    amount_paise: int


async def paid_paise(booking: Booking) -> int:
    rows = await Payment.filter(booking_id=booking.id, status=PaymentStatus.VERIFIED).values_list("amount_paise", flat=True)
    return sum(rows)


def refund_percent(policy: list[dict], days_before: int) -> int:
    """The tier with the largest `min_days` that `days_before` reaches; 0 without one."""
    tiers = sorted(policy or [], key=lambda tier: tier["min_days"], reverse=True)
    return next((int(t["percent"]) for t in tiers if days_before >= int(t["min_days"])), 0)


async def refund_quote(booking: Booking, today: date) -> RefundQuote:
    """What cancelling today gives back, by the trip's cancellation policy."""
    days_before = (booking.departure.starts_on - today).days
    percent = refund_percent(booking.departure.trip.cancellation_policy, days_before)
    paid = await paid_paise(booking)
    return RefundQuote(days_before, percent, paid, paid * percent // 100)


CANCELLABLE = frozenset({*HOLDING_STATUSES, BookingStatus.CONFIRMED})


def _check_live(booking: Booking) -> None:
    if booking.status not in CANCELLABLE:
        raise Conflict(f"This booking is {STATUS_LABELS[BookingStatus(booking.status)].lower()}; there is nothing to cancel.")


def check_cancellable(booking: Booking, today: date) -> None:
    """What a traveller may cancel: a live booking, before departure, not mid-verification."""
    _check_live(booking)
    if booking.departure.starts_on <= today:
        raise Conflict("This trip has already started, so it can no longer be cancelled here. Please call the operator.")
    if booking.status == BookingStatus.PAYMENT_SUBMITTED:
        raise Conflict("Your payment is being checked. You can cancel once it is confirmed, or call the operator.")


async def cancel_booking(
    reference: str, *, actor: User | None, today: date, now: datetime, full_refund: bool = False, reason: str = ""
) -> Booking:
    """Cancel a booking and release its seats. A pending Refund is created for what the
    policy gives back (`full_refund`: everything paid or submitted, as when the operator
    cancels the departure)."""
    async with locked_booking(reference) as booking:
        if full_refund:
            _check_live(booking)
            refundable, percent = (PaymentStatus.VERIFIED, PaymentStatus.SUBMITTED), 100
        else:
            check_cancellable(booking, today)
            refundable = (PaymentStatus.VERIFIED,)
            percent = refund_percent(booking.departure.trip.cancellation_policy, (booking.departure.starts_on - today).days)
        payments = await Payment.filter(booking_id=booking.id, status__in=refundable).order_by("-id")
        amount = sum(p.amount_paise for p in payments) * percent // 100
        await set_status(
            booking, BookingStatus.CANCELLED, actor=actor, cancelled_at=now,
            data={"refund_paise": amount, "refund_percent": percent, "reason": reason},
        )  # fmt: skip
        if amount > 0:
            refund = await Refund.create(
                booking=booking, payment=payments[0], amount_paise=amount,
                reason=reason or f"Cancelled: {percent}% refund by the cancellation policy",
            )  # fmt: skip
            await record("refund", refund.id, "created", None, RefundStatus.PENDING, actor=actor, data={"booking": reference, "amount_paise": amount})
        return booking


async def confirm_booking(reference: str, *, actor: User, now: datetime, note: str = "") -> Booking:
    """The operator confirms by hand (paid in cash or by bank transfer). A hold that has
    lapsed is confirmed only while its seats are still free."""
    async with locked_departure_and_booking(reference) as booking:
        if booking.status in HOLDING_STATUSES and not holds_seats(booking, now):
            departure = booking.departure
            left = departure.capacity - await seats_taken(departure.id, now)
            if booking.seats > left:
                raise SeatsUnavailable(left)
        return await set_status(booking, BookingStatus.CONFIRMED, actor=actor, action="confirmed_manually", data={"note": note}, hold_expires_at=None)


# ---------------------------------------------------------------- travellers


class TravellersChanged(Conflict):
    """Someone saved these travellers since the form was drawn; both versions are kept."""

    title = "Changed meanwhile"
    problem = "travellers-changed"

    def __init__(self, theirs: list[Traveller], yours: list[TravellerInput], version: int) -> None:
        super().__init__(
            "These details were changed by someone else while you were editing. "
            "Their version and yours are both shown: save again to keep yours."
        )
        self.theirs = theirs
        self.yours = yours
        self.version = version


EDITABLE = frozenset({*HOLDING_STATUSES, BookingStatus.CONFIRMED})


async def update_travellers(
    reference: str, travellers: list[TravellerInput], *, version: int, actor: User, today: date
) -> Booking:
    """Replace the travellers' details (same number of people) if nobody changed the
    booking since `version`; otherwise TravellersChanged and nothing is written."""
    async with locked_booking(reference) as booking:
        if booking.status not in EDITABLE or booking.departure.starts_on <= today:
            raise Conflict("Traveller details can be changed only on a live booking before departure.")
        current = list(await Traveller.filter(booking_id=booking.id).order_by("position"))
        if len(travellers) != booking.seats:
            raise ValidationError({"__all__": f"This booking is for {booking.seats} travellers."})
        if booking.version != version:
            raise TravellersChanged(current, travellers, booking.version)
        before = [saved_details(t) for t in current]
        for row, new in zip(current, travellers):
            for name, value in new.as_dict().items():
                setattr(row, name, value)
            await row.save()
        booking.version += 1
        await booking.save(update_fields=["version", "updated_at"])
        await record("booking", reference, "travellers_updated", actor=actor, data={"before": before, "after": [t.as_dict() for t in travellers]})
        return booking


# ---------------------------------------------------------------- reading


def booking_reference(raw: str) -> str | None:
    """A typed or linked reference as stored (`yt-7k3q9m` -> `YT-7K3Q9M`); None for what
    cannot be one, before a query meets the column's length."""
    value = raw.strip().upper()
    return value if _REFERENCE.fullmatch(value) else None


async def booking_for(user: User, reference: str, *, admins: bool = True) -> Booking:
    """The booking if `user` owns it or (with `admins`) is an admin; NotFound for anyone
    else, so a reference cannot be probed."""
    reference = booking_reference(reference)
    booking = reference and await Booking.get_or_none(reference=reference).select_related("departure__trip__destination", "user")
    if booking is None or (booking.user_id != user.id and not (admins and user.is_admin)):
        raise NotFound("We could not find that booking.")
    return booking


@dataclass(frozen=True)
class MyBookings:
    upcoming: list[Booking]
    past: list[Booking]
    ended: list[Booking]  # cancelled, refunded or expired


async def my_bookings(user: User, today: date) -> MyBookings:
    rows = await Booking.filter(user_id=user.id).select_related("departure__trip").order_by("departure__starts_on", "id")
    ended_statuses = {BookingStatus.CANCELLED, BookingStatus.REFUNDED, BookingStatus.EXPIRED}
    ended = [b for b in rows if b.status in ended_statuses]
    live = [b for b in rows if b.status not in ended_statuses]
    return MyBookings(
        upcoming=[b for b in live if b.departure.ends_on >= today],
        past=[b for b in reversed(live) if b.departure.ends_on < today],
        ended=sorted(ended, key=lambda b: b.updated_at, reverse=True),
    )


async def timeline(booking: Booking) -> list[AuditLog]:
    return list(await AuditLog.filter(entity="booking", entity_id=booking.reference).select_related("actor").order_by("created_at", "id"))


# ---------------------------------------------------------------- mail

MAIL_SUBJECTS = {
    "held": "Seats held: {ref}",
    "confirmed": "Booking confirmed: {ref}",
    "cancelled": "Booking cancelled: {ref}",
    "expired": "Hold expired: {ref}",
    "refund_due": "Your online payment for {ref} will be refunded",
}


async def send_booking_mail(notifier: Notifier, booking: Booking, event: str) -> bool:
    """Tell the lead traveller (or the account's email) what happened to the booking."""
    await booking.fetch_related("user", "departure__trip", "travellers", "refunds")
    lead = next((t for t in booking.travellers if t.position == 1), None)
    to = (lead.email if lead and lead.email else None) or booking.user.email
    return await notifier.send(
        to,
        MAIL_SUBJECTS[event].format(ref=booking.reference),
        f"email/booking_{event}.txt",
        booking=booking,
        trip=booking.departure.trip,
        departure=booking.departure,
        name=lead.full_name if lead else booking.user.name,
    )
