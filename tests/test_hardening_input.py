"""Issue 13, requests that ended in a 500: numbers, ids and dates from paths, queries and
forms; bodies that are not UTF-8; JSON too deep or with a lone surrogate; text longer than
its column; API strings given objects; problem+json titles. On both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from yatri.models import AuditLog, Booking, Departure, Role, Traveller, Trip
from yatri.parsing import MAX_ID, FieldError, day, paise, record_id, whole_number
from yatri.errors import NotFound

from tests.booking_data import COMPANION_FORM, LEAD_FORM, TODAY, form_for, hold, make_departure
from tests.helpers import csrf_in, login, make_user

NOT_ASCII_NUMBERS = ["²", "٣", "１２", "9" * 5000, "-1", "1e3", "0x10", " ", "1 2"]
EDGE_DAYS = ["0001-01-01", "9999-12-31"]
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


# ---------------------------------------------------------------- the one parser


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS)
def test_numbers_are_ascii_digits_within_bounds(raw):
    with pytest.raises(FieldError, match="whole number from 1 to 100"):
        whole_number(raw, 1, 100)
    with pytest.raises(NotFound):
        record_id(raw, "trip")
    with pytest.raises(FieldError):
        paise(raw, 1_000)


def test_ids_reach_the_column_maximum_and_no_further():
    assert record_id("2147483647") == MAX_ID == 2**31 - 1
    assert record_id(" 1000 ") == 1000 and whole_number(7, 1, 10) == 7
    for raw in ("0", "2147483648", True, None, {}, []):
        with pytest.raises(NotFound):
            record_id(raw)


def test_rupees_become_paise_exactly():
    assert paise("9,950", 100_000) == 995_000 and paise("₹9950.5", 100_000) == 995_050
    for raw in ("0", "9950.505", "1e3", "NaN", "Infinity", "１２", "100001"):
        with pytest.raises(FieldError):
            paise(raw, 100_000)


@pytest.mark.parametrize("raw", [*EDGE_DAYS, "2026-02-30", "２０２６-01-01", "20261201", "2026-W01-1"])
def test_dates_are_iso_days_within_the_years_we_serve(raw):
    with pytest.raises(FieldError, match="^Enter the first day "):
        day(raw, "first day")
    assert day(" 2026-12-01 ").isoformat() == "2026-12-01"


# ---------------------------------------------------------------- ids on every page


async def test_a_departure_with_the_largest_id_books_end_to_end_on_the_web(client):
    user = await make_user()
    made = await make_departure(capacity=10)
    later = {"starts_on": made.starts_on + timedelta(days=7), "ends_on": made.ends_on + timedelta(days=7)}
    departure = await Departure.create(id=MAX_ID, trip=made.trip, capacity=5, **later)
    csrf = await login(client, user)
    page = await client.get(f"/departures/{departure.id}/book?count=2")
    assert page.status == 200 and 'name="t2-full_name"' in await page.text()
    data = {"csrf_token": csrf, "count": "2", **form_for([LEAD_FORM, COMPANION_FORM])}
    review = await client.post(f"/departures/{departure.id}/book/review", data=data)
    html = await review.text()
    assert review.status == 200, html
    form = html[html.index(f'action="/departures/{departure.id}/book"'):]
    posted = dict(_HIDDEN.findall(form[: form.index("</form>")]))
    confirmed = await client.post(f"/departures/{departure.id}/book", data=posted, allow_redirects=False)
    assert confirmed.status == 303
    booking = await Booking.get(user=user)
    assert booking.departure_id == MAX_ID and booking.seats == 2


@pytest.mark.parametrize("raw", ["2147483648", "9" * 5000, "٣", "0"])
async def test_ids_beyond_the_column_are_404_not_a_database_error(client, raw):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    await login(client, admin)
    for path in (f"/departures/{raw}/book", f"/admin/trips/{raw}", f"/admin/departures/{raw}", f"/admin/trips/{raw}/departures"):
        response = await client.get(path)
        assert response.status == 404, (path, response.status)
    token = csrf_in(await (await client.get("/admin/users")).text())
    for path in (f"/admin/payments/{raw}/verify", f"/admin/users/{raw}/role", f"/admin/trips/{raw}/publish"):
        response = await client.post(path, data={"csrf_token": token, "role": "admin", "published": "1"})
        assert response.status == 404, (path, response.status)


async def test_a_booking_version_above_999_round_trips_on_the_traveller_edit(client):
    user = await make_user()
    departure = await make_departure()
    booking = await hold(user, departure, count=2)
    await Booking.filter(id=booking.id).update(version=123_456)
    csrf = await login(client, user)
    page = await (await client.get(f"/bookings/{booking.reference}/travellers")).text()
    assert 'name="version" value="123456"' in page
    edited = {**COMPANION_FORM, "full_name": "Meera Menon"}
    data = {"csrf_token": csrf, "version": "123456", **form_for([LEAD_FORM, edited])}
    response = await client.post(f"/bookings/{booking.reference}/travellers", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()
    assert await Traveller.filter(booking_id=booking.id, full_name="Meera Menon").exists()


# ---------------------------------------------------------------- numbers typed into forms


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS[:4])
async def test_ages_and_counts_that_are_not_ascii_numbers_get_a_field_message(client, raw):
    user = await make_user()
    departure = await make_departure()
    csrf = await login(client, user)
    data = {"csrf_token": csrf, "count": "1", **form_for([{**LEAD_FORM, "age": raw}])}
    review = await client.post(f"/departures/{departure.id}/book/review", data=data)
    assert review.status == 422 and "Enter the age in whole years" in await review.text()
    counted = await client.post(f"/departures/{departure.id}/book/review", data={**data, "count": raw})
    assert counted.status == 422 and "travellers per booking" in await counted.text()
    page = await client.get(f"/departures/{departure.id}/book", params={"count": raw})
    assert page.status == 200 and "Choose from 1 to" in await page.text()
    assert not await Booking.exists()


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS[:4])
async def test_admin_prices_capacities_and_days_that_are_not_ascii_numbers_are_refused(client, raw):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    departure = await make_departure()
    trip = departure.trip
    await login(client, admin)
    for name, message in (("price", "Enter a price in rupees"), ("days", "whole number from 1 to 60"), ("max_per_booking", "whole number from 1 to 50")):
        form = await (await client.get(f"/admin/trips/{trip.id}/fields/{name}/edit")).text()
        data = {"csrf_token": csrf_in(form), "version": "1", "base": "", name: raw}
        response = await client.post(f"/admin/trips/{trip.id}/fields/{name}", data=data)
        assert response.status == 422 and message in await response.text(), name
    page = await (await client.get(f"/admin/trips/{trip.id}/departures")).text()
    start = (TODAY + timedelta(days=90)).isoformat()
    added = await client.post(f"/admin/trips/{trip.id}/departures", data={"csrf_token": csrf_in(page), "starts_on": start, "capacity": raw, "price": raw})
    html = await added.text()
    assert added.status == 422 and "Enter the number of seats" in html and "Enter a price in rupees" in html
    fresh = await Trip.get(id=trip.id)
    assert (fresh.days, fresh.price_paise, fresh.max_per_booking) == (trip.days, trip.price_paise, trip.max_per_booking)
    assert await Departure.filter(trip_id=trip.id).count() == 1


# ---------------------------------------------------------------- dates at the edges of the calendar


async def test_dates_at_the_edges_of_the_calendar_are_explained_in_every_filter(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    departure = await make_departure()
    await login(client, admin)
    for path in ("/admin/bookings", "/admin/audit", "/trips", "/api/v1/trips"):
        for params in ({"from": EDGE_DAYS[0]}, {"to": EDGE_DAYS[1]}, {"from": EDGE_DAYS[0], "to": EDGE_DAYS[1]}):
            response = await client.get(path, params=params)
            text = await response.text()
            assert response.status in (200, 422), (path, params, response.status)
            assert "from 2000-01-01 to 2999-12-31" in text, (path, params)
    page = await (await client.get(f"/admin/trips/{departure.trip_id}/departures")).text()
    for starts_on in EDGE_DAYS:
        added = await client.post(
            f"/admin/trips/{departure.trip_id}/departures", data={"csrf_token": csrf_in(page), "starts_on": starts_on, "capacity": "10"}
        )
        assert added.status == 422 and "Enter the start date" in await added.text()
    assert await Departure.filter(trip_id=departure.trip_id).count() == 1


async def test_filter_numbers_that_are_not_ascii_get_a_message(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    await make_departure()
    await login(client, admin)
    for raw in NOT_ASCII_NUMBERS[:4]:
        for name in ("trip", "departure"):
            bookings = await (await client.get("/admin/bookings", params={name: raw})).text()
            assert "Pick one from the list" in bookings
        audit = await (await client.get("/admin/audit", params={"actor": raw})).text()
        assert "Pick someone from the list" in audit
        for name, message in (("min_price", "Enter a price"), ("page", "That page number")):
            trips = await client.get("/trips", params={name: raw})
            assert trips.status == 200 and f'id="err-{name}">{message}' in await trips.text()
        for path in ("/admin/users", "/admin/bookings", "/admin/audit", "/admin/departures"):
            assert (await client.get(path, params={"page": raw})).status == 200
    assert not await AuditLog.filter(action="edit").exists()
