"""The waiting list on both databases: joining a sold-out departure, offers of freed
seats (cancellation, capacity, lapsed hold, lapsed offer) in line order to the first party
that fits, booking an offer, leaving, and the races of freed seats against new bookings."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from yatri.errors import Conflict, ValidationError
from yatri.keys import NotifierKey
from yatri.models import AuditLog, Booking, BookingStatus, Role, WaitlistEntry, WaitlistStatus
from yatri.services import booking as bookings
from yatri.services import waitlist
from yatri.services.admin_departures import DepartureChange, cancel_departure, change_departure
from yatri.services.seats import SeatsUnavailable, seats_left, seats_taken
from yatri.services.waitlist_offers import live_offer, serve_lines

from tests.booking_data import NOW, TODAY, hold, make_departure
from tests.helpers import make_user

ROOT = Path(__file__).resolve().parent.parent


async def full_departure(capacity: int = 4):
    """A departure whose seats are all held by one booking of Ravi's; returns both."""
    departure = await make_departure(capacity=capacity)
    ravi = await make_user(f"ravi{departure.id}@example.com", name="Ravi")
    return departure, await hold(ravi, departure, capacity, now=NOW)


async def cancel(booking: Booking, notifier=None, now=NOW) -> Booking:
    return await bookings.cancel_booking(booking.reference, actor=None, today=TODAY, now=now, notifier=notifier)


async def book(user, departure, count, now=NOW):
    return await hold(user, departure, count, now=now)


async def test_joining_needs_a_departure_too_full_for_the_party_and_shows_the_place_in_line(client):
    departure, _ = await full_departure(capacity=4)
    asha, meera = await make_user("asha@example.com"), await make_user("meera@example.com")
    first = await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)
    second = await waitlist.join(meera, departure.id, 1, now=NOW, today=TODAY)
    assert (await waitlist.my_place(asha, departure.id)).position == 1
    assert (await waitlist.my_place(meera, departure.id)).position == 2
    with pytest.raises(Conflict, match="already on the waiting list"):
        await waitlist.join(asha, departure.id, 1, now=NOW, today=TODAY)
    with pytest.raises(ValidationError) as refused:
        await waitlist.join(await make_user("big@example.com"), departure.id, 99, now=NOW, today=TODAY)
    assert "party_size" in refused.value.errors
    [joined] = await AuditLog.filter(entity="waitlist", entity_id=str(first.id))
    assert (joined.action, joined.to_state, joined.actor_id) == ("waiting", "waiting", asha.id)
    assert second.status == WaitlistStatus.WAITING
    await waitlist.leave(asha, departure.id, now=NOW, today=TODAY)
    assert (await waitlist.my_place(meera, departure.id)).position == 1


async def test_a_departure_with_free_seats_for_the_party_refuses_the_waiting_list(client):
    departure = await make_departure(capacity=4)
    await book(await make_user("ravi@example.com"), departure, 3)
    asha = await make_user("asha@example.com")
    with pytest.raises(Conflict, match="1 seats are free"):
        await waitlist.join(asha, departure.id, 1, now=NOW, today=TODAY)
    assert (await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)).status == WaitlistStatus.WAITING


async def test_a_cancellation_offers_the_seats_to_the_first_party_that_fits_and_nobody_else_gets_them(client, smtp_outbox, app):
    departure = await make_departure(capacity=4)
    ravi, kiran = await make_user("ravi@example.com"), await make_user("kiran@example.com")
    two = await book(ravi, departure, 2)
    await book(kiran, departure, 2)
    big, asha, meera = [await make_user(f"{n}@example.com", name=n.title()) for n in ("big", "asha", "meera")]
    await waitlist.join(big, departure.id, 3, now=NOW, today=TODAY)
    await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)
    await waitlist.join(meera, departure.id, 2, now=NOW, today=TODAY)

    await cancel(two, app[NotifierKey])
    entries = {e.user_id: e for e in await WaitlistEntry.all()}
    assert entries[big.id].status == WaitlistStatus.WAITING  # 3 do not fit in 2
    assert entries[asha.id].status == WaitlistStatus.OFFERED
    assert entries[asha.id].offer_expires_at == NOW + timedelta(hours=12)
    assert entries[meera.id].status == WaitlistStatus.WAITING
    assert await seats_left(departure, NOW) == 0  # the offered seats count as taken
    with pytest.raises(SeatsUnavailable):
        await book(await make_user("late@example.com"), departure, 1)
    mails = await smtp_outbox.wait_for(2)
    [offer] = [m for m in mails if "held for you" in m["Subject"]]
    assert offer["To"] == "asha@example.com" and f"/departures/{departure.id}/waitlist" in offer.get_content()

    booked = await book(asha, departure, 2, now=NOW + timedelta(hours=11))
    assert booked.status == BookingStatus.HELD
    entry = await WaitlistEntry.get(id=entries[asha.id].id)
    assert (entry.status, entry.booking_id) == (WaitlistStatus.BOOKED, booked.id)
    assert await seats_taken(departure.id, NOW + timedelta(hours=11)) == 4


async def test_an_offer_that_lapses_passes_to_the_next_party_and_a_reload_never_restarts_it(client):
    departure, ravis = await full_departure(capacity=2)
    asha, meera = await make_user("asha@example.com"), await make_user("meera@example.com")
    await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)
    await waitlist.join(meera, departure.id, 2, now=NOW, today=TODAY)
    await cancel(ravis)
    offer = await live_offer(asha, departure.id, NOW)
    for minutes in (1, 60, 600):  # the booking page read again and again
        await waitlist.my_place(asha, departure.id)
        assert (await live_offer(asha, departure.id, NOW + timedelta(minutes=minutes))).offer_expires_at == offer.offer_expires_at

    later = NOW + timedelta(hours=12, seconds=1)
    assert await seats_left(departure, later) == 2  # a lapsed offer holds nothing, even before the job runs
    assert await serve_lines(later, TODAY, None) == 1
    assert (await WaitlistEntry.get(id=offer.id)).status == WaitlistStatus.LAPSED
    assert (await live_offer(meera, departure.id, later)) is not None
    with pytest.raises(SeatsUnavailable):  # Asha's time is up: the seats are Meera's now
        await book(asha, departure, 2, now=later)


async def test_an_expired_hold_and_a_bigger_capacity_free_seats_for_the_line(client):
    departure, ravis = await full_departure(capacity=2)
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    asha, meera = await make_user("asha@example.com"), await make_user("meera@example.com")
    await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)
    await waitlist.join(meera, departure.id, 3, now=NOW, today=TODAY)
    after_hold = ravis.hold_expires_at + timedelta(seconds=1)
    assert await serve_lines(after_hold, TODAY, None) == 1
    assert (await live_offer(asha, departure.id, after_hold)) is not None
    await change_departure(departure.id, DepartureChange(capacity=5), admin, after_hold, TODAY)
    assert (await live_offer(meera, departure.id, after_hold)) is not None
    assert await seats_left(departure, after_hold) == 0


async def test_no_offer_while_sales_are_closed_and_a_cancelled_departure_closes_its_line(client, smtp_outbox, app):
    departure, ravis = await full_departure(capacity=2)
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    asha = await make_user("asha@example.com")
    await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)
    await change_departure(departure.id, DepartureChange(sales_closed=True), admin, NOW, TODAY)
    await cancel(ravis)
    assert (await WaitlistEntry.get(user_id=asha.id)).status == WaitlistStatus.WAITING
    assert await serve_lines(NOW, TODAY, None) == 0
    await change_departure(departure.id, DepartureChange(sales_closed=False), admin, NOW, TODAY)
    assert (await live_offer(asha, departure.id, NOW)) is not None

    await cancel_departure(departure.id, admin, NOW, TODAY, notifier=app[NotifierKey])
    assert (await WaitlistEntry.get(user_id=asha.id)).status == WaitlistStatus.CLOSED
    [mail] = [m for m in await smtp_outbox.wait_for(1) if "cancelled" in m["Subject"].lower()]
    assert mail["To"] == "asha@example.com"


async def test_no_offer_on_the_day_of_departure(client):
    departure, ravis = await full_departure(capacity=2)
    asha = await make_user("asha@example.com")
    await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)
    await bookings.cancel_booking(ravis.reference, actor=None, today=TODAY, now=NOW, full_refund=True)
    await WaitlistEntry.filter(user_id=asha.id).update(status=WaitlistStatus.WAITING, offer_expires_at=None)
    assert await serve_lines(NOW, departure.starts_on, None) == 0


async def test_leaving_with_an_offer_passes_the_seats_on(client):
    departure, ravis = await full_departure(capacity=2)
    asha, meera = await make_user("asha@example.com"), await make_user("meera@example.com")
    await waitlist.join(asha, departure.id, 2, now=NOW, today=TODAY)
    await waitlist.join(meera, departure.id, 1, now=NOW, today=TODAY)
    await cancel(ravis)
    await waitlist.leave(asha, departure.id, now=NOW, today=TODAY)
    assert (await live_offer(meera, departure.id, NOW)).party_size == 1
    assert await seats_left(departure, NOW) == 1  # the other seat is for anyone: nobody else waits


async def test_a_party_that_no_longer_fits_is_passed_over(client):
    departure, ravis = await full_departure(capacity=3)
    asha, meera = await make_user("asha@example.com"), await make_user("meera@example.com")
    await waitlist.join(asha, departure.id, 3, now=NOW, today=TODAY)
    await waitlist.join(meera, departure.id, 2, now=NOW, today=TODAY)
    departure.trip.max_per_booking = 2  # the operator lowered the limit per booking
    await departure.trip.save()
    await cancel(ravis)
    assert (await live_offer(asha, departure.id, NOW)) is None
    assert (await live_offer(meera, departure.id, NOW)) is not None


async def test_freed_seats_racing_new_bookings_are_never_sold_twice(client):
    for round_ in range(3):
        departure, ravis = await full_departure(capacity=4)
        waiting = [await make_user(f"w{round_}-{n}@example.com") for n in range(3)]
        for user in waiting:
            await waitlist.join(user, departure.id, 2, now=NOW, today=TODAY)
        newcomers = [await make_user(f"n{round_}-{n}@example.com") for n in range(4)]
        steps = [cancel(ravis), *(book(user, departure, 2) for user in newcomers)]
        results = await asyncio.gather(*(steps if round_ % 2 else reversed(steps)), return_exceptions=True)
        assert all(not isinstance(r, Exception) or isinstance(r, SeatsUnavailable) for r in results), results
        assert await seats_taken(departure.id, NOW) <= 4
        offered = await WaitlistEntry.filter(departure_id=departure.id, status=WaitlistStatus.OFFERED).count()
        held = await Booking.filter(departure_id=departure.id, status=BookingStatus.HELD).count()
        # The line comes first: seats freed while it waits are offered, never sold to a newcomer.
        assert (offered, held) == (2, 0), (offered, held)
        assert (await serve_lines(NOW, TODAY, None)) == 0  # nothing left to offer twice


async def test_two_processes_serving_the_line_and_booking_offer_each_freed_seat_once(client, shared_database_url, tmp_path):
    departure, ravis = await full_departure(capacity=4)
    for n in range(4):
        await waitlist.join(await make_user(f"wait{n}@example.com"), departure.id, 2, now=NOW, today=TODAY)
    newcomers = [(await make_user(f"new{n}@example.com")).email for n in range(4)]
    later = ravis.hold_expires_at + timedelta(seconds=1)  # Ravi's hold lapsed: 4 seats free
    start = tmp_path / "start"
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.waitlist_worker", shared_database_url, str(departure.id), later.isoformat(),
            TODAY.isoformat(), str(start), *newcomers[n::2], stdout=asyncio.subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        for n in range(2)
    ]
    await asyncio.sleep(1.5)  # both processes connected and waiting
    start.touch()
    outputs = [json.loads((await w.communicate())[0]) for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert sum(o["offered"] for o in outputs) == 2 and sum(o["booked"] for o in outputs) == 0, outputs
    offered = await WaitlistEntry.filter(departure_id=departure.id, status=WaitlistStatus.OFFERED).values_list("id", flat=True)
    assert len(offered) == 2
    rows = await AuditLog.filter(entity="waitlist", action="offered").values_list("entity_id", flat=True)
    assert sorted(rows) == sorted(str(i) for i in offered)  # each offered once
    assert await seats_taken(departure.id, later) == 4
