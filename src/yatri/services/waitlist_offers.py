"""Offers to a departure's waiting list: seats that are free go to the line first.

Every step runs under the departure's lock (`state.locked_departure`), the lock a booking
takes, so freed seats are offered once: an offer's seats count as taken (`seats`) until it
lapses, and the line is served before any new booking counts its seats (`booking.hold_seats`
calls `serve_line`). Seats free up by a cancellation (`booking.cancel_booking`), a larger
capacity or reopened sales (`admin_departures.change_departure`), a hold or an offer that
lapsed (the periodic `serve_lines`, yatri.jobs); each of those serves the line.

An offer holds the seats for `departure.offer_hours` from the moment it is made; nothing
moves that time, so a reload never restarts it. A lapsed offer's seats pass down the line.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from yatri.models import Booking, Departure, User, WaitlistEntry, WaitlistStatus
from yatri.services.audit import record
from yatri.services.notify import Mail, Notifier, Outgoing, change
from yatri.services.seats import seats_left
from yatri.services.state import locked_departure

LIVE = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)

SUBJECTS = {
    WaitlistStatus.OFFERED: "Seats are held for you: {trip}, {day}",
    WaitlistStatus.LAPSED: "Your held seats were released: {trip}, {day}",
    WaitlistStatus.CLOSED: "Departure cancelled: {trip}, {day}",
}


def offering(departure: Departure, today: date) -> bool:
    """Whether freed seats may be offered now: sales open, not cancelled, not started."""
    return departure.cancelled_at is None and not departure.sales_closed and departure.starts_on > today


async def set_entry(entry: WaitlistEntry, to: WaitlistStatus, *, actor: User | None, data: dict | None = None, **fields) -> None:
    """Move an entry to `to` with its audit row; call inside the change's transaction."""
    before = entry.status
    entry.status = to
    for name, value in fields.items():
        setattr(entry, name, value)
    await entry.save(update_fields=["status", "updated_at", *fields])
    await record(
        "waitlist", entry.id, str(to), str(before), str(to), actor=actor,
        data={"departure": entry.departure_id, "party_size": entry.party_size, **(data or {})},
    )  # fmt: skip


async def entry_mail(entry: WaitlistEntry, departure: Departure) -> Mail:
    await entry.fetch_related("user")
    await departure.fetch_related("trip")
    subject = SUBJECTS[entry.status].format(trip=departure.trip.title, day=f"{departure.starts_on:%d %b %Y}")
    context = {"entry": entry, "departure": departure, "trip": departure.trip, "name": entry.user.name}
    return Mail(entry.user.email, subject, f"email/waitlist_{entry.status}.txt", context)


async def offer_seats(departure: Departure, now: datetime, today: date, outgoing: Outgoing) -> list[WaitlistEntry]:
    """Lapse the offers whose time ran out, then offer the seats free now down the line:
    each time to the first waiting entry whose whole party fits. Under the departure's lock."""
    if not await WaitlistEntry.exists(departure_id=departure.id, status__in=LIVE):
        return []
    await _lapse_offers(departure, now, outgoing)
    if not offering(departure, today):
        return []
    await departure.fetch_related("trip")
    left = await seats_left(departure, now)
    offered: list[WaitlistEntry] = []
    waiting = await WaitlistEntry.filter(departure_id=departure.id, status=WaitlistStatus.WAITING).order_by("id")
    for entry in waiting:
        if left <= 0:
            break
        if entry.party_size > min(left, departure.trip.max_per_booking):
            continue
        expires = now + timedelta(hours=departure.offer_hours)
        await set_entry(entry, WaitlistStatus.OFFERED, actor=None, data={"until": expires.isoformat()}, offered_at=now, offer_expires_at=expires)
        outgoing.add(await entry_mail(entry, departure))
        left -= entry.party_size
        offered.append(entry)
    return offered


async def _lapse_offers(departure: Departure, now: datetime, outgoing: Outgoing) -> None:
    lapsed = WaitlistEntry.filter(departure_id=departure.id, status=WaitlistStatus.OFFERED, offer_expires_at__lte=now)
    for entry in await lapsed.order_by("id"):
        await set_entry(entry, WaitlistStatus.LAPSED, actor=None)
        outgoing.add(await entry_mail(entry, departure))


async def live_offer(user: User, departure_id: int, now: datetime) -> WaitlistEntry | None:
    """The user's offer on this departure whose seats are still held for them."""
    return await WaitlistEntry.get_or_none(
        user_id=user.id, departure_id=departure_id, status=WaitlistStatus.OFFERED, offer_expires_at__gt=now
    )


async def serve_line(user: User, departure: Departure, now: datetime, today: date, outgoing: Outgoing) -> WaitlistEntry | None:
    """Before a booking counts its seats: the line gets the free seats first; returns the
    booker's own live offer (its seats are theirs to book). Under the departure's lock."""
    await offer_seats(departure, now, today, outgoing)
    return await live_offer(user, departure.id, now)


async def offer_taken(entry: WaitlistEntry, booking: Booking, now: datetime, today: date, outgoing: Outgoing) -> None:
    """The offer became `booking` (which holds the seats now); seats of the offer the party
    did not book go on down the line."""
    await set_entry(entry, WaitlistStatus.BOOKED, actor=booking.user, data={"booking": booking.reference}, booking_id=booking.id)
    await offer_seats(booking.departure, now, today, outgoing)


async def close_line(departure: Departure, actor: User | None, outgoing: Outgoing) -> None:
    """The departure was cancelled: every live entry closes and is told."""
    for entry in await WaitlistEntry.filter(departure_id=departure.id, status__in=LIVE).order_by("id"):
        await set_entry(entry, WaitlistStatus.CLOSED, actor=actor)
        outgoing.add(await entry_mail(entry, departure))


async def serve_lines(now: datetime, today: date, notifier: Notifier | None) -> int:
    """The periodic step: on every departure with a line, lapse run-out offers and offer
    the seats free now (a hold or an offer lapsed). Returns how many entries were offered."""
    ids = await WaitlistEntry.filter(status__in=LIVE).distinct().values_list("departure_id", flat=True)
    offered = 0
    for departure_id in sorted(set(ids)):
        async with change(notifier) as outgoing, locked_departure(departure_id) as departure:
            offered += len(await offer_seats(departure, now, today, outgoing))
    return offered
