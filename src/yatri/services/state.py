"""A booking's state: the locks that serialise changes to a booking and its departure,
and the state machine every status change goes through (`set_status`, inside the
change's transaction, which writes the audit row the booking's timeline is made of).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound
from yatri.models import Booking, BookingStatus, Departure, User
from yatri.services.audit import record
from yatri.services.events import announce
from yatri.services.locks import lock, locked, rows


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
    await announce_booking(booking)
    return booking


async def announce_booking(booking: Booking) -> None:
    """A booking changed (inside its transaction): its page, its owner's list of bookings,
    its departure's seats left and the operator's dashboard are told (services/events)."""
    await announce(
        f"booking:{booking.reference}", f"traveller:{booking.user_id}", f"departure:{booking.departure_id}", "dashboard"
    )
