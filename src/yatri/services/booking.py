"""Bookings: holding seats, traveller details, cancellation, a traveller's bookings.

Seats are never sold twice: every change that takes seats checks capacity (`seats`) and
writes the booking in one transaction that holds a lock on the departure
(`state.locked_departure`). Every status change goes through `state.set_status`.
Seats that free up go to the departure's waiting list first (`waitlist_offers`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import AuditLog, Booking, BookingStatus, Departure, Payment, PaymentStatus, Refund, RefundStatus, Traveller, User
from yatri.services.audit import record
from yatri.services.notify import Notifier, booking_mail, change
from yatri.services.pricing import departure_breakdown
from yatri.services.refunds import refund_percent
from yatri.services.seats import HOLDING_STATUSES, check_seats_free, holds_seats
from yatri.services.state import (
    STATUS_LABELS, announce_booking, locked_booking, locked_departure, locked_departure_and_booking, set_status,
)
from yatri.services.travellers import TravellerInput, saved_details
from yatri.services import waitlist_offers

# No 0/O or 1/I, so a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_REFERENCE = re.compile(r"[A-Z0-9-]{1,12}")  # bookings.reference

MAX_SEATS = 50  # the most seats one booking may ever hold (a trip sets its own limit up to this)


def new_reference() -> str:
    return "YT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def listed_departures(today: date) -> Q:
    """Departures travellers see: not started (a run leaving today is no longer sold)
    and not cancelled by the operator. Closed sales are listed, without a Book link."""
    return Q(starts_on__gt=today, cancelled_at__isnull=True)


# ---------------------------------------------------------------- holding seats


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
    notifier: Notifier | None = None,
) -> Booking:
    """Hold seats for these travellers: a `held` booking that lapses after `hold_minutes`,
    mailed to the lead traveller through `notifier` once committed (`notify.change`).

    A second request with the same idempotency key (a double tap, a retry) returns the
    first booking instead of making another, and sends no second mail. Keys are kept
    per user, so nobody can reach another user's booking through its key.
    """
    key = _scoped_key(user, idempotency_key)
    if key and (earlier := await Booking.get_or_none(idempotency_key=key)):
        return earlier
    try:
        async with change(notifier) as outgoing, locked_departure(departure_id) as departure:
            await departure.fetch_related("trip")
            check_bookable(departure, today)
            check_count(departure, len(travellers))
            offer = await waitlist_offers.serve_line(user, departure, now, today, outgoing)
            await check_seats_free(departure, len(travellers), now, offered=offer.party_size if offer else 0)
            booking = await _create_booking(user, departure, travellers, key, now, hold_minutes)
            if offer:
                await waitlist_offers.offer_taken(offer, booking, now, today, outgoing)
            outgoing.add(await booking_mail(booking, "held"))
    except IntegrityError:
        # The same key committed by a concurrent request between our check and our insert.
        if key and (earlier := await Booking.get_or_none(idempotency_key=key)):
            return earlier
        raise
    return booking


def _scoped_key(user: User, idempotency_key: str | None) -> str | None:
    if not idempotency_key:
        return None
    return hashlib.sha256(f"{user.id}:{idempotency_key}".encode()).hexdigest()


async def _create_booking(user, departure, travellers, idempotency_key, now, hold_minutes) -> Booking:
    price = departure_breakdown(departure, len(travellers))
    booking = await Booking.create(
        reference=new_reference(),
        user=user,
        departure=departure,
        seats=len(travellers),
        status=BookingStatus.HELD,
        unit_price_paise=price.unit_paise,
        subtotal_paise=price.subtotal_paise,
        discount_percent=price.discount_percent,
        discount_paise=price.discount_paise,
        gst_paise=price.gst_paise,
        gst_percent=price.gst_percent,
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
    await announce_booking(booking)
    return booking


async def expire_lapsed_holds(now: datetime, notifier: Notifier | None = None) -> list[Booking]:
    """Mark holds whose time ran out as expired (their seats stopped counting already) and
    tell each traveller."""
    references = await Booking.filter(status__in=HOLDING_STATUSES, hold_expires_at__lte=now).values_list(
        "reference", flat=True
    )
    expired = []
    for reference in references:
        async with change(notifier) as outgoing, locked_booking(reference) as booking:
            if booking.status in HOLDING_STATUSES and booking.hold_expires_at <= now:
                expired.append(await set_status(booking, BookingStatus.EXPIRED, actor=None, data={"hold_expired_at": booking.hold_expires_at.isoformat()}))
                outgoing.add(await booking_mail(booking, "expired"))
    return expired


# ---------------------------------------------------------------- money back


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
    reference: str, *, actor: User | None, today: date, now: datetime, full_refund: bool = False, reason: str = "",
    notifier: Notifier | None = None,
) -> Booking:
    """Cancel a booking and release its seats (offered to the waiting list at once), and
    tell the traveller. A pending Refund is created for what the policy gives back
    (`full_refund`: everything paid or submitted, as when the operator cancels the departure)."""
    async with change(notifier) as outgoing, locked_departure_and_booking(reference) as booking:
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
        outgoing.add(await booking_mail(booking, "cancelled"))
        await waitlist_offers.offer_seats(booking.departure, now, today, outgoing)
        return booking


async def confirm_booking(
    reference: str, *, actor: User, now: datetime, note: str = "", notifier: Notifier | None = None
) -> Booking:
    """The operator confirms by hand (paid in cash or by bank transfer), and the traveller
    is told. A hold that has lapsed is confirmed only while its seats are still free."""
    async with change(notifier) as outgoing, locked_departure_and_booking(reference) as booking:
        if booking.status in HOLDING_STATUSES and not holds_seats(booking, now):
            await check_seats_free(booking.departure, booking.seats, now)
        await set_status(booking, BookingStatus.CONFIRMED, actor=actor, action="confirmed_manually", data={"note": note}, hold_expires_at=None)
        outgoing.add(await booking_mail(booking, "confirmed"))
        return booking


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


def check_editable(booking: Booking, today: date) -> None:
    """Travellers' details may change on a live booking before departure."""
    if booking.status not in EDITABLE or booking.departure.starts_on <= today:
        raise Conflict("Traveller details can be changed only on a live booking before departure.")


async def update_travellers(
    reference: str, travellers: list[TravellerInput], *, version: int, actor: User, today: date
) -> Booking:
    """Replace the travellers' details (same number of people) if nobody changed the
    booking since `version`; otherwise TravellersChanged and nothing is written."""
    async with locked_booking(reference) as booking:
        check_editable(booking, today)
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



