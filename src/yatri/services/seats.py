"""Seat accounting, the one place seats are counted: which bookings take seats at a
moment (and the seats a waiting-list offer holds, until it lapses), how many are taken
and left on a departure, and whether a booking whose hold lapsed may have its seats
again. A check that leads to taking seats runs under the departure's lock
(`state.locked_departure`), in the transaction that takes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from tortoise.expressions import Q
from tortoise.functions import Sum
from tortoise.queryset import ValuesQuery

from yatri.errors import Conflict
from yatri.models import Booking, BookingStatus, Departure, WaitlistEntry, WaitlistStatus

# Statuses whose seats count only until `hold_expires_at` (the hold, or the longer
# verification window once a payment is submitted). Confirmed seats always count.
HOLDING_STATUSES = (BookingStatus.HELD, BookingStatus.PENDING_PAYMENT, BookingStatus.PAYMENT_SUBMITTED)


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
    for query in (seats_taken_query(ids, now), seats_offered_query(ids, now)):
        for row in await query:
            taken[row["departure_id"]] += int(row["seats_sum"] or 0)
    return taken


def seats_taken_query(departure_ids: list[int], now: datetime) -> ValuesQuery:
    """The seat count: rows of departure_id and seats_sum, served by the index on
    bookings (departure_id, status) (tests/test_indexes.py)."""
    return (
        Booking.filter(counting_bookings(now), departure_id__in=departure_ids)
        .annotate(seats_sum=Sum("seats"))
        .group_by("departure_id")
        .values("departure_id", "seats_sum")
    )


def seats_offered_query(departure_ids: list[int], now: datetime) -> ValuesQuery:
    """Seats held for waiting-list entries whose offer has not lapsed at `now`."""
    return (
        WaitlistEntry.filter(status=WaitlistStatus.OFFERED, offer_expires_at__gt=now, departure_id__in=departure_ids)
        .annotate(seats_sum=Sum("party_size"))
        .group_by("departure_id")
        .values("departure_id", "seats_sum")
    )


async def seats_taken(departure_id: int, now: datetime) -> int:
    return (await seats_taken_by_departure([departure_id], now))[departure_id]


def left_of(departure: Departure, taken: int) -> int:
    """Seats still for sale on a departure of which `taken` are taken (never below 0)."""
    return max(departure.capacity - taken, 0)


async def seats_left(departure: Departure, now: datetime) -> int:
    return left_of(departure, await seats_taken(departure.id, now))


async def check_seats_free(departure: Departure, seats: int, now: datetime, *, offered: int = 0) -> None:
    """SeatsUnavailable unless `seats` more fit on the departure; call under its lock.
    `offered`: seats a waiting-list offer holds for this booker, theirs to take."""
    left = await seats_left(departure, now) + offered
    if seats > left:
        raise SeatsUnavailable(left)


def holds_seats(booking: Booking, now: datetime) -> bool:
    """Whether this booking's seats count at `now`: `counting_bookings` for one booking."""
    if booking.status == BookingStatus.CONFIRMED:
        return True
    return booking.status in HOLDING_STATUSES and booking.hold_expires_at is not None and booking.hold_expires_at > now


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


async def take_seats_back(booking: Booking, now: datetime, today: date) -> None:
    """For a booking whose hold lapsed: its seats again, or a clear Conflict. Call under the
    departure lock. `today` is the operator's date: a run leaving today is no longer sold."""
    if holds_seats(booking, now):
        return
    departure = booking.departure
    if departure.cancelled_at is not None:
        raise Conflict(
            "This departure was cancelled, so it cannot be paid for. If you have already paid, contact us "
            "with your UTR and we will refund you."
        )
    if departure.starts_on <= today:
        raise Conflict("This departure has already started, so it can no longer be paid for.")
    if departure.sales_closed:
        raise Conflict("Booking for this departure has closed and the hold on these seats lapsed, so they cannot be paid for.")
    left = await seats_left(departure, now)
    if left < booking.seats:
        raise Conflict(
            f"The hold on this booking lapsed and its seats have been sold: {left} of the "
            f"{booking.seats} seats are free now. If you have already paid, contact us with your UTR "
            "and we will refund you."
        )
