"""The waiting list as travellers and the operator see it: join a sold-out departure with
a party size, see one's place in the line or the offer, leave; the operator's list.

Offers themselves (who gets freed seats, when an offer lapses) are `waitlist_offers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import Departure, User, WaitlistEntry, WaitlistStatus
from yatri.services.booking import check_bookable
from yatri.services.notify import Notifier, change
from yatri.services.seats import seats_left
from yatri.services.state import locked_departure
from yatri.services.waitlist_offers import LIVE, offer_seats, set_entry

STATUS_LABELS = {
    WaitlistStatus.WAITING: "On the waiting list",
    WaitlistStatus.OFFERED: "Seats held for you",
    WaitlistStatus.BOOKED: "Booked",
    WaitlistStatus.LEFT: "Left the waiting list",
    WaitlistStatus.LAPSED: "Offer lapsed",
    WaitlistStatus.CLOSED: "Departure cancelled",
}


@dataclass(frozen=True)
class Place:
    """A traveller's entry with its place in the line (1: next in line) while waiting."""

    entry: WaitlistEntry
    position: int | None

    def offer_open(self, now: datetime) -> bool:
        entry = self.entry
        return entry.status == WaitlistStatus.OFFERED and entry.offer_expires_at is not None and entry.offer_expires_at > now


def check_party(departure: Departure, party_size: int) -> None:
    limit = departure.trip.max_per_booking
    if not 1 <= party_size <= limit:
        raise ValidationError({"party_size": f"Choose from 1 to {limit} travellers."})


async def join(user: User, departure_id: int, party_size: int, *, now: datetime, today: date, notifier: Notifier | None = None) -> WaitlistEntry:
    """Join the line of a departure with too few seats left for the party. Seats free now
    go to the line first, so a traveller is never queued behind seats nobody holds."""
    async with change(notifier) as outgoing, locked_departure(departure_id) as departure:
        await departure.fetch_related("trip")
        check_bookable(departure, today)
        check_party(departure, party_size)
        await offer_seats(departure, now, today, outgoing)
        if await WaitlistEntry.exists(user_id=user.id, departure_id=departure.id, status__in=LIVE):
            raise Conflict("You are already on the waiting list of this departure.")
        left = await seats_left(departure, now)
        if left >= party_size:
            raise Conflict(f"{left} seats are free on this departure: you can book them now.", field="party_size")
        entry = await WaitlistEntry.create(departure=departure, user=user, party_size=party_size, status=WaitlistStatus.WAITING)
        await set_entry(entry, WaitlistStatus.WAITING, actor=user)
    return entry


async def leave(user: User, departure_id: int, *, now: datetime, today: date, notifier: Notifier | None = None) -> WaitlistEntry:
    """Leave the line; seats held for an offer pass to the next entry at once."""
    async with change(notifier) as outgoing, locked_departure(departure_id) as departure:
        entry = await WaitlistEntry.get_or_none(user_id=user.id, departure_id=departure.id, status__in=LIVE)
        if entry is None:
            raise NotFound("You are not on the waiting list of this departure.")
        await set_entry(entry, WaitlistStatus.LEFT, actor=user)
        await offer_seats(departure, now, today, outgoing)
    return entry


async def _position(entry: WaitlistEntry) -> int | None:
    if entry.status != WaitlistStatus.WAITING:
        return None
    ahead = await WaitlistEntry.filter(departure_id=entry.departure_id, status=WaitlistStatus.WAITING, id__lt=entry.id).count()
    return ahead + 1


async def my_place(user: User, departure_id: int) -> Place | None:
    """The user's latest entry on this departure, with its place in the line."""
    entry = await WaitlistEntry.filter(user_id=user.id, departure_id=departure_id).order_by("-id").first()
    return entry and Place(entry, await _position(entry))


async def my_places(user: User) -> list[Place]:
    """The user's live entries (waiting or offered), soonest departure first."""
    entries = await WaitlistEntry.filter(user_id=user.id, status__in=LIVE).select_related("departure__trip").order_by("departure__starts_on", "id")
    return [Place(entry, await _position(entry)) for entry in entries]


async def line(departure_id: int) -> list[Place]:
    """The operator's list: every entry of the departure in the order they joined."""
    entries = await WaitlistEntry.filter(departure_id=departure_id).select_related("user").order_by("id")
    places, ahead = [], 0
    for entry in entries:
        if entry.status == WaitlistStatus.WAITING:
            ahead += 1
        places.append(Place(entry, ahead if entry.status == WaitlistStatus.WAITING else None))
    return places
