"""/admin departures: add, capacity (never below seats held or sold), close and reopen
sales, cancel a departure with every booking on it (full refunds, emails)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.admin_data import make_booking, make_departure, make_trip
from tests.helpers import login, make_user
from yatri.errors import ValidationError
from yatri.models import AuditLog, Booking, BookingStatus, Departure, Payment, Refund, Role
from yatri.services.admin_departures import DepartureChange, change_departure, set_capacity
from yatri.services.booking import hold_seats
from yatri.services.seats import seats_taken
from yatri.services.catalogue import current_version
from yatri.services.travellers import TravellerInput

HX = {"HX-Request": "true"}
TODAY = datetime.now(UTC).date()
SOON = datetime.now(UTC) + timedelta(hours=6)  # a hold still live however long the test run takes
LAPSED = datetime.now(UTC) - timedelta(minutes=1)


async def signed_in_admin(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    return admin, await login(client, admin)


async def trip_with_departure(capacity=10, days_ahead=30):
    trip = await make_trip()
    return trip, await make_departure(trip, TODAY + timedelta(days=days_ahead), capacity=capacity)


# ---------------------------------------------------------------- adding


async def test_adding_a_departure_computes_the_end_date_and_is_audited(client):
    admin, token = await signed_in_admin(client)
    trip = await make_trip()  # 5 days
    version = await current_version()
    start = TODAY + timedelta(days=45)
    response = await client.post(
        f"/admin/trips/{trip.id}/departures",
        data={"starts_on": start.isoformat(), "ends_on": "", "capacity": "16", "price": "", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"/admin/trips/{trip.id}/departures"
    departure = await Departure.get(trip_id=trip.id)
    assert (departure.starts_on, departure.ends_on, departure.capacity, departure.price_paise) == (start, start + timedelta(days=4), 16, None)
    assert await current_version() > version
    row = await AuditLog.get(entity="departure", entity_id=str(departure.id), action="created")
    assert row.actor_id == admin.id and row.data["after"]["capacity"] == 16

    page = await (await client.get(response.headers["Location"])).text()
    assert f"Added the departure of {start:%d %b %Y}" in page and f'id="departure-{departure.id}"' in page


async def test_adding_with_htmx_swaps_the_section_with_a_price_in_rupees(client):
    _, token = await signed_in_admin(client)
    trip = await make_trip()
    start = TODAY + timedelta(days=60)
    response = await client.post(
        f"/admin/trips/{trip.id}/departures", headers=HX,
        data={"starts_on": start.isoformat(), "ends_on": (start + timedelta(days=6)).isoformat(), "capacity": "8", "price": "13,500", "csrf_token": token},
    )  # fmt: skip
    html = await response.text()
    assert response.status == 200 and html.lstrip().startswith('<section id="departures"') and "<html" not in html
    assert "₹13,500" in html
    departure = await Departure.get(trip_id=trip.id)
    assert departure.price_paise == 1_350_000 and departure.ends_on == start + timedelta(days=6)


async def test_bad_departure_input_is_shown_next_to_each_field_keeping_what_was_typed(client):
    _, token = await signed_in_admin(client)
    trip = await make_trip()
    form = {"starts_on": TODAY.isoformat(), "ends_on": "", "capacity": "0", "price": "lots", "csrf_token": token}
    response = await client.post(f"/admin/trips/{trip.id}/departures", data=form)
    html = await response.text()
    assert response.status == 422 and "<html" in html
    assert "Choose a start date after today" in html
    assert "a whole number from 1 to 500" in html and 'value="0"' in html
    assert "Leave it empty to use the trip" in html and 'value="lots"' in html

    later = TODAY + timedelta(days=20)
    backwards = {**form, "starts_on": later.isoformat(), "ends_on": (later - timedelta(days=1)).isoformat(), "capacity": "5", "price": ""}
    response = await client.post(f"/admin/trips/{trip.id}/departures", data=backwards, headers=HX)
    assert response.status == 422 and "cannot be before the start date" in await response.text()
    assert not await Departure.filter(trip_id=trip.id).exists()


async def test_a_second_departure_on_the_same_day_is_refused(client):
    _, token = await signed_in_admin(client)
    trip, departure = await trip_with_departure()
    form = {"starts_on": departure.starts_on.isoformat(), "capacity": "5", "csrf_token": token}
    response = await client.post(f"/admin/trips/{trip.id}/departures", data=form, headers=HX)
    assert response.status == 422 and "already has a departure starting on" in await response.text()
    assert await Departure.filter(trip_id=trip.id).count() == 1


# ---------------------------------------------------------------- capacity


async def test_capacity_can_be_raised_and_lowered_to_the_seats_taken(client):
    admin, token = await signed_in_admin(client)
    trip, departure = await trip_with_departure(capacity=10)
    owner = await make_user("asha@example.com")
    await make_booking(departure, owner, seats=3)  # confirmed
    await make_booking(departure, owner, seats=2, status=BookingStatus.HELD, hold_expires_at=SOON)
    await make_booking(departure, owner, seats=4, status=BookingStatus.HELD, hold_expires_at=LAPSED)  # does not count

    response = await client.post(f"/admin/departures/{departure.id}/capacity", data={"capacity": "5", "csrf_token": token}, headers=HX)
    html = await response.text()
    assert response.status == 200 and html.lstrip().startswith(f'<tr id="departure-{departure.id}"')
    assert 'class="taken">5<' in html and 'class="left">0<' in html
    assert (await Departure.get(id=departure.id)).capacity == 5
    row = await AuditLog.get(entity="departure", entity_id=str(departure.id), action="capacity_changed")
    assert row.actor_id == admin.id and row.data == {"before": {"capacity": 10}, "after": {"capacity": 5}}


async def test_capacity_below_the_seats_held_or_sold_is_refused_in_place(client):
    _, token = await signed_in_admin(client)
    trip, departure = await trip_with_departure(capacity=10)
    owner = await make_user("asha@example.com")
    await make_booking(departure, owner, seats=3)
    await make_booking(departure, owner, seats=2, status=BookingStatus.PAYMENT_SUBMITTED, hold_expires_at=SOON)
    version = await current_version()

    response = await client.post(f"/admin/departures/{departure.id}/capacity", data={"capacity": "4", "csrf_token": token}, headers=HX)
    html = await response.text()
    assert response.status == 422 and html.lstrip().startswith(f'<tr id="departure-{departure.id}"')
    assert "5 seats are already held or sold on this departure: the capacity cannot go below 5." in html
    assert 'value="4"' in html  # what was typed stays

    plain = await client.post(f"/admin/departures/{departure.id}/capacity", data={"capacity": "4", "csrf_token": token, "next": f"/admin/trips/{trip.id}/departures"})
    assert plain.status == 422 and "the capacity cannot go below 5" in await plain.text()
    assert (await Departure.get(id=departure.id)).capacity == 10
    assert await current_version() == version
    assert not await AuditLog.filter(entity="departure", action="capacity_changed").exists()


async def test_capacity_without_javascript_redirects_back_with_a_message(client):
    _, token = await signed_in_admin(client)
    trip, departure = await trip_with_departure(capacity=10)
    back = f"/admin/trips/{trip.id}/departures"
    response = await client.post(f"/admin/departures/{departure.id}/capacity", data={"capacity": "12", "csrf_token": token, "next": back}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == back
    assert "Capacity is now 12 seats." in await (await client.get(back)).text()


async def test_a_capacity_cut_and_a_booking_at_the_same_moment_never_oversell(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    asha = await make_user("asha@example.com")
    trip = await make_trip()
    now = datetime.now(UTC)
    for round_ in range(4):
        departure = await make_departure(trip, TODAY + timedelta(days=20 + round_), capacity=7)
        await make_booking(departure, asha, seats=3)
        three = [TravellerInput(full_name=f"Traveller {n}", age=30) for n in range(3)]
        cut = set_capacity(departure.id, 5, admin, now, TODAY)
        hold = hold_seats(asha, departure.id, three, idempotency_key=None, now=now, today=TODAY, hold_minutes=15)
        results = await asyncio.gather(*((cut, hold) if round_ % 2 else (hold, cut)), return_exceptions=True)
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(failed) == 1, results  # whichever came second saw the other's change
        capacity = (await Departure.get(id=departure.id)).capacity
        assert await seats_taken(departure.id, now) <= capacity


# ---------------------------------------------------------------- sales


async def test_closing_and_reopening_sales(client):
    _, token = await signed_in_admin(client)
    trip, departure = await trip_with_departure()
    version = await current_version()
    response = await client.post(f"/admin/departures/{departure.id}/sales", data={"closed": "1", "csrf_token": token}, headers=HX)
    html = await response.text()
    assert response.status == 200 and "Sales closed" in html and "Reopen sales" in html
    assert (await Departure.get(id=departure.id)).sales_closed is True
    assert await current_version() > version

    response = await client.post(f"/admin/departures/{departure.id}/sales", data={"closed": "0", "csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert (await Departure.get(id=departure.id)).sales_closed is False
    actions = await AuditLog.filter(entity="departure", entity_id=str(departure.id)).values_list("action", flat=True)
    assert actions == ["sales_closed", "sales_reopened"]


async def test_the_departure_lists_show_seats_taken_and_left(client):
    await signed_in_admin(client)
    trip, departure = await trip_with_departure(capacity=10)
    await make_booking(departure, await make_user("asha@example.com"), seats=3)
    old = await make_departure(trip, TODAY - timedelta(days=30), capacity=12)
    for path in (f"/admin/trips/{trip.id}/departures", "/admin/departures", f"/admin/departures/{departure.id}"):
        html = await (await client.get(path)).text()
        assert f'id="departure-{departure.id}"' in html and 'class="taken">3<' in html and 'class="left">7<' in html, path
    assert f'href="/admin/trips/{trip.id}/departures"' in await (await client.get(f"/admin/trips/{trip.id}")).text()
    trip_page = await (await client.get(f"/admin/trips/{trip.id}/departures")).text()
    assert "Past departures (1)" in trip_page and f'id="departure-{old.id}"' in trip_page
    assert f'id="departure-{old.id}"' not in await (await client.get("/admin/departures")).text()


# ---------------------------------------------------------------- cancelling


async def test_cancelling_a_departure_cancels_every_booking_with_a_full_refund_and_emails(client, smtp_outbox):
    admin, token = await signed_in_admin(client)
    trip, departure = await trip_with_departure(capacity=10, days_ahead=3)  # inside the no-refund tier of most policies
    asha = await make_user("asha@example.com", name="Asha Rao")
    ravi = await make_user("ravi@example.com", name="Ravi Kumar")
    paid = await make_booking(departure, asha, seats=2, total_paise=2_400_000, travellers=[{"full_name": "Asha Rao", "age": 31, "email": "asha.trips@example.com"}, {"full_name": "Meera", "age": 29}])
    await Payment.create(booking=paid, method="upi_qr", amount_paise=2_400_000, status="verified", utr="123456789012")
    held = await make_booking(departure, ravi, seats=1, status=BookingStatus.HELD, hold_expires_at=SOON, travellers=[{"full_name": "Ravi Kumar", "age": 40}])
    gone = await make_booking(departure, ravi, seats=1, status=BookingStatus.EXPIRED)

    confirm = await (await client.get(f"/admin/departures/{departure.id}/cancel")).text()
    assert paid.reference in confirm and held.reference in confirm and gone.reference not in confirm

    response = await client.post(f"/admin/departures/{departure.id}/cancel", data={"reason": "Landslide on the route", "csrf_token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"/admin/departures/{departure.id}"
    page = await (await client.get(response.headers["Location"])).text()
    assert "2 bookings cancelled with a full refund" in page

    departure = await Departure.get(id=departure.id)
    assert departure.cancelled_at is not None and departure.sales_closed is True
    assert {b.reference: b.status for b in await Booking.filter(departure_id=departure.id)} == {
        paid.reference: BookingStatus.CANCELLED, held.reference: BookingStatus.CANCELLED, gone.reference: BookingStatus.EXPIRED,
    }  # fmt: skip
    refunds = await Refund.all()
    assert [(r.booking_id, r.amount_paise, r.status) for r in refunds] == [(paid.id, 2_400_000, "pending")]
    assert "Landslide on the route" in refunds[0].reason
    row = await AuditLog.get(entity="departure", entity_id=str(departure.id), action="cancelled")
    assert row.actor_id == admin.id and sorted(row.data["bookings"]) == sorted([paid.reference, held.reference])

    mails = await smtp_outbox.wait_for(2)
    assert {m["To"] for m in mails} == {"asha.trips@example.com", "ravi@example.com"}
    to_asha = smtp_outbox.to("asha.trips@example.com")[0]
    assert paid.reference in to_asha["Subject"] and "₹24,000" in to_asha.get_content()


async def test_a_cancelled_departure_cannot_be_changed_or_cancelled_again(client):
    _, token = await signed_in_admin(client)
    trip, departure = await trip_with_departure()
    assert (await client.post(f"/admin/departures/{departure.id}/cancel", data={"csrf_token": token}, allow_redirects=False)).status == 303

    again = await client.post(f"/admin/departures/{departure.id}/cancel", data={"csrf_token": token})
    assert again.status == 409 and "has been cancelled" in await again.text()
    response = await client.post(f"/admin/departures/{departure.id}/capacity", data={"capacity": "30", "csrf_token": token}, headers=HX)
    assert response.status == 409 and "has been cancelled" in await response.text()
    sales = await client.post(f"/admin/departures/{departure.id}/sales", data={"closed": "0", "csrf_token": token})
    assert sales.status == 409
    departure = await Departure.get(id=departure.id)
    assert departure.capacity == 10 and departure.sales_closed is True
    assert await AuditLog.filter(entity="departure", action="cancelled").count() == 1


async def test_travellers_no_longer_see_a_departure_once_sales_close_or_it_is_cancelled(client):
    _, token = await signed_in_admin(client)
    trip, closing = await trip_with_departure(days_ahead=30)
    cancelling = await make_departure(trip, TODAY + timedelta(days=60))
    staying = await make_departure(trip, TODAY + timedelta(days=90))
    booked = lambda html, d: f"/departures/{d.id}/book" in html  # noqa: E731
    before = await (await client.get(f"/trips/{trip.slug}")).text()  # fills the catalogue cache
    assert booked(before, closing) and booked(before, cancelling) and booked(before, staying)

    await client.post(f"/admin/departures/{closing.id}/sales", data={"closed": "1", "csrf_token": token})
    await client.post(f"/admin/departures/{cancelling.id}/cancel", data={"csrf_token": token})
    after = await (await client.get(f"/trips/{trip.slug}")).text()
    assert not booked(after, closing) and not booked(after, cancelling) and booked(after, staying)
    home = await (await client.get("/")).text()
    assert f"{closing.starts_on:%a %d %b}" not in home and f"{staying.starts_on:%a %d %b}" in home

    await client.post(f"/admin/departures/{closing.id}/sales", data={"closed": "0", "csrf_token": token})
    assert booked(await (await client.get(f"/trips/{trip.slug}")).text(), closing)


async def test_capacity_and_sales_change_together_or_not_at_all(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    trip, departure = await trip_with_departure(capacity=10)
    await make_booking(departure, await make_user("asha@example.com"), seats=3)
    now = datetime.now(UTC)
    with pytest.raises(ValidationError) as refused:
        await change_departure(departure.id, DepartureChange(capacity=2, sales_closed=True), admin, now, TODAY)
    assert "the capacity cannot go below 3" in refused.value.errors["capacity"]
    unchanged = await Departure.get(id=departure.id)
    assert (unchanged.capacity, unchanged.sales_closed) == (10, False) and not await AuditLog.exists(entity="departure")

    changed = await change_departure(departure.id, DepartureChange(capacity=6, sales_closed=True), admin, now, TODAY)
    assert (changed.capacity, changed.sales_closed) == (6, True)
    actions = await AuditLog.filter(entity="departure").order_by("id").values_list("action", flat=True)
    assert actions == ["capacity_changed", "sales_closed"]
