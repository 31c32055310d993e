"""The operator's side of departures: add runs of a trip, change their capacity, close
or reopen sales, cancel a run with every booking on it.

Every change is one transaction holding the departure's lock (`locked_departure`, the
same lock a booking takes), writes one audit row and bumps the catalogue version, so the
public pages show the change at once. Capacity never goes below the seats already held
or sold: the count is taken under that lock, so a booking cannot slip in between.
Seats a change frees (more capacity, sales reopened) go to the waiting list first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import Booking, Departure, Trip, User
from yatri.parsing import FieldError, day, record_id, single_line, whole_number
from yatri.services import audit
from yatri.services.booking import CANCELLABLE, cancel_booking
from yatri.services.notify import Notifier
from yatri.services.notify import change as notify_change
from yatri.services.seats import left_of, seats_taken, seats_taken_by_departure
from yatri.services.state import locked_departure
from yatri.services.catalogue import MAX_PRICE_RUPEES, bump_version
from yatri.services.money import paise_amount
from yatri.services.paging import Page, paginate
from yatri.services.waitlist_offers import close_line, offer_seats

MAX_CAPACITY = 500
MAX_OFFER_HOURS = 7 * 24
PER_PAGE = 30
CAPACITY_MESSAGE = f"Enter the number of seats, a whole number from 1 to {MAX_CAPACITY}."
PRICE_HINT = "Leave it empty to use the trip's price."


class DepartureState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # sales closed by the operator
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class DepartureRow:
    """A departure as the operator sees it: seats held or sold, seats left, its state."""

    departure: Departure
    taken: int

    @property
    def left(self) -> int:
        return left_of(self.departure, self.taken)

    @property
    def state(self) -> DepartureState:
        if self.departure.cancelled_at is not None:
            return DepartureState.CANCELLED
        return DepartureState.CLOSED if self.departure.sales_closed else DepartureState.OPEN

    @property
    def state_label(self) -> str:
        return {"cancelled": "Cancelled", "closed": "Sales closed", "open": "On sale"}[self.state]


@dataclass(frozen=True)
class NewDeparture:
    """A run to add. No end date: start + the trip's days; no price: the trip's price.
    A start date or capacity of None is missing (refused with the field's message)."""

    starts_on: date | None = None
    ends_on: date | None = None
    capacity: int | None = None
    price_paise: int | None = None


async def _rows(departures: list[Departure], now: datetime) -> list[DepartureRow]:
    taken = await seats_taken_by_departure([d.id for d in departures], now)
    return [DepartureRow(d, taken[d.id]) for d in departures]


async def get_trip(trip_id: int | str) -> Trip:
    trip = await Trip.get_or_none(id=record_id(trip_id, "trip"))
    if trip is None:
        raise NotFound("There is no such trip.")
    return trip


async def get_departure(departure_id: int | str) -> Departure:
    found = await Departure.get_or_none(id=record_id(departure_id, "departure")).select_related("trip")
    if found is None:
        raise NotFound("There is no such departure.")
    return found


async def row(departure_id: int | str, now: datetime) -> DepartureRow:
    return (await _rows([await get_departure(departure_id)], now))[0]


async def trip_departures(trip: Trip, today: date, now: datetime) -> tuple[list[DepartureRow], list[DepartureRow]]:
    """The trip's upcoming departures (soonest first) and its past ones (latest first)."""
    departures = list(await Departure.filter(trip_id=trip.id).order_by("starts_on"))
    for departure in departures:
        departure.trip = trip
    rows = await _rows(departures, now)
    upcoming = [r for r in rows if r.departure.ends_on >= today]
    past = [r for r in reversed(rows) if r.departure.ends_on < today]
    return upcoming, past


async def upcoming_departures(today: date, now: datetime, page: int = 1) -> Page:
    """Every departure that has not ended yet, across trips, soonest first."""
    query = Departure.filter(ends_on__gte=today).select_related("trip").order_by("starts_on", "id")
    found = await paginate(query, page, PER_PAGE)
    return Page(await _rows(found.rows, now), found.number, found.per_page, found.total)


# ---------------------------------------------------------------- rules


def capacity_seats(capacity: int | None) -> int:
    return whole_number(capacity, 1, MAX_CAPACITY, CAPACITY_MESSAGE)


def _start(starts_on: date | None, today: date) -> date:
    starts_on = day(starts_on, "start date")
    if starts_on <= today:
        raise FieldError("Choose a start date after today.")
    return starts_on


def _end(ends_on: date | None, starts_on: date | None, trip: Trip) -> date | None:
    if ends_on is None:
        return starts_on + timedelta(days=trip.days - 1) if starts_on else None
    ends_on = day(ends_on, "end date")
    if starts_on is not None and ends_on < starts_on:
        raise FieldError("The end date cannot be before the start date.")
    return ends_on


def _price(price_paise: int | None) -> int | None:
    try:
        return None if price_paise is None else paise_amount(price_paise, MAX_PRICE_RUPEES)
    except FieldError as exc:
        raise FieldError(f"{exc} {PRICE_HINT}") from None


def check_new(new: NewDeparture, trip: Trip, today: date) -> tuple[NewDeparture, dict[str, str]]:
    """`new` with its end date filled in, and a message for each field that breaks its rule."""
    errors: dict[str, str] = {}

    def field(name: str, rule: Callable[..., Any], *args: Any) -> Any:
        try:
            return rule(*args)
        except FieldError as exc:
            errors[name] = str(exc)
            return None

    starts_on = field("starts_on", _start, new.starts_on, today)
    ends_on = field("ends_on", _end, new.ends_on, starts_on, trip)
    capacity = field("capacity", capacity_seats, new.capacity)
    price = field("price", _price, new.price_paise)
    return NewDeparture(starts_on, ends_on, capacity, price), errors


# ---------------------------------------------------------------- changes


def _plain(departure: Departure) -> dict[str, Any]:
    return {
        "starts_on": departure.starts_on.isoformat(), "ends_on": departure.ends_on.isoformat(),
        "capacity": departure.capacity, "price_paise": departure.price_paise,
    }  # fmt: skip


async def add_departure(trip: Trip, new: NewDeparture, actor: User, today: date) -> Departure:
    """Add the run; every field that breaks its rule is reported at once."""
    new, errors = check_new(new, trip, today)
    if errors:
        raise ValidationError(errors)
    taken_message = f"{trip.title} already has a departure starting on {new.starts_on:%d %b %Y}."
    if await Departure.exists(trip_id=trip.id, starts_on=new.starts_on):
        raise ValidationError({"starts_on": taken_message})
    try:
        async with in_transaction():
            departure = await Departure.create(
                trip=trip, starts_on=new.starts_on, ends_on=new.ends_on, capacity=new.capacity, price_paise=new.price_paise
            )
            await audit.record("departure", departure.id, "created", actor=actor, data={"before": None, "after": {"trip": trip.id, **_plain(departure)}})
            await bump_version()
    except IntegrityError:  # added by someone else a moment ago
        raise ValidationError({"starts_on": taken_message}) from None
    return departure


def _check_not_cancelled(departure: Departure) -> None:
    if departure.cancelled_at is not None:
        raise Conflict("This departure has been cancelled, so it cannot be changed.")


@dataclass(frozen=True)
class DepartureChange:
    """What to change on a departure; None leaves it as it is."""

    capacity: int | None = None
    sales_closed: bool | None = None
    offer_hours: int | None = None  # how long a waiting-list offer holds its seats


def offer_hours(hours: int | None) -> int:
    return whole_number(hours, 1, MAX_OFFER_HOURS, f"Enter the hours an offer holds its seats, from 1 to {MAX_OFFER_HOURS}.")


async def change_departure(
    departure_id: int, change: DepartureChange, actor: User, now: datetime, today: date, notifier: Notifier | None = None
) -> Departure:
    """Change the capacity, close or reopen sales and the offer time together, under the
    departure's lock, in one transaction, or nothing; one audit row for each. Seats free
    afterwards are offered to the waiting list in the same transaction."""
    errors: dict[str, str] = {}
    capacity = _checked(errors, "capacity", capacity_seats, change.capacity)
    hours = _checked(errors, "offer_hours", offer_hours, change.offer_hours)
    if errors:
        raise ValidationError(errors)
    async with notify_change(notifier) as outgoing, locked_departure(departure_id) as departure:
        _check_not_cancelled(departure)
        if capacity is not None:
            await _set_capacity(departure, capacity, actor, now)
        if change.sales_closed is not None:
            await _set_sales_closed(departure, change.sales_closed, actor)
        if hours is not None:
            await _set_offer_hours(departure, hours, actor)
        await offer_seats(departure, now, today, outgoing)
    return departure


def _checked(errors: dict[str, str], name: str, rule: Callable[[int], int], value: int | None) -> int | None:
    try:
        return None if value is None else rule(value)
    except FieldError as exc:
        errors[name] = str(exc)
        return None


async def set_capacity(departure_id: int, capacity: int, actor: User, now: datetime, today: date, notifier: Notifier | None = None) -> Departure:
    return await change_departure(departure_id, DepartureChange(capacity=capacity), actor, now, today, notifier)


async def _set_offer_hours(departure: Departure, hours: int, actor: User) -> None:
    before = departure.offer_hours
    if hours != before:
        departure.offer_hours = hours
        await departure.save(update_fields=["offer_hours", "updated_at"])
        await audit.record("departure", departure.id, "offer_hours_changed", actor=actor, data={"before": {"offer_hours": before}, "after": {"offer_hours": hours}})


async def _set_capacity(departure: Departure, capacity: int, actor: User, now: datetime) -> None:
    """Never below the seats held or sold, counted under the lock."""
    taken = await seats_taken(departure.id, now)
    if capacity < taken:
        seats = "seat is" if taken == 1 else "seats are"
        raise ValidationError({"capacity": f"{taken} {seats} already held or sold on this departure: the capacity cannot go below {taken}."})
    before = departure.capacity
    if capacity != before:
        departure.capacity = capacity
        await departure.save(update_fields=["capacity", "updated_at"])
        await audit.record("departure", departure.id, "capacity_changed", actor=actor, data={"before": {"capacity": before}, "after": {"capacity": capacity}})
        await bump_version()


async def _set_sales_closed(departure: Departure, closed: bool, actor: User) -> None:
    if departure.sales_closed != closed:
        departure.sales_closed = closed
        await departure.save(update_fields=["sales_closed", "updated_at"])
        action = "sales_closed" if closed else "sales_reopened"
        await audit.record("departure", departure.id, action, actor=actor, data={"before": {"sales_closed": not closed}, "after": {"sales_closed": closed}})
        await bump_version()


async def bookings_to_cancel(departure_id: int) -> list[Booking]:
    """The live bookings a cancellation of the departure cancels and refunds in full."""
    return list(await Booking.filter(departure_id=departure_id, status__in=CANCELLABLE).prefetch_related("user").order_by("id"))


async def cancel_departure(
    departure_id: int, actor: User, now: datetime, today: date, reason: str = "", notifier: Notifier | None = None
) -> list[Booking]:
    """Cancel the run: no more sales, every live booking on it cancelled with a full refund
    of what was paid, all in one transaction; each traveller is mailed once it commits.
    Returns the cancelled bookings."""
    reason = single_line(reason)[:200] or "The operator cancelled this departure"
    async with notify_change(notifier) as outgoing, locked_departure(departure_id) as departure:
        _check_not_cancelled(departure)
        if departure.ends_on < today:
            raise Conflict("This departure is already over, so it cannot be cancelled.")
        departure.cancelled_at, departure.sales_closed = now, True
        await departure.save(update_fields=["cancelled_at", "sales_closed", "updated_at"])
        cancelled = [
            await cancel_booking(b.reference, actor=actor, today=today, now=now, full_refund=True, reason=reason)
            for b in await bookings_to_cancel(departure.id)
        ]
        await close_line(departure, actor, outgoing)
        await audit.record(
            "departure", departure.id, "cancelled", actor=actor,
            data={"before": {"cancelled_at": None}, "after": {"cancelled_at": now.isoformat()}, "reason": reason,
                  "bookings": [b.reference for b in cancelled]},
        )  # fmt: skip
        await bump_version()
    return cancelled
