"""Prices as travellers see them, GST included, at each trip's own rate: cards, the trip
page, departures, the API, sorting and filtering /trips, the review and the booking."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import settings as settings_of
from hypothesis import strategies as st

from tests.api_helpers import bearer_for
from tests.booking_data import LEAD_FORM, TODAY, make_departure
from tests.helpers import csrf_in, login, make_user
from tests.test_booking_web import confirm_form, review_page
from yatri.models import Booking, Destination, Role, Trip, User
from yatri.services.catalogue import TripFilters, search_trips
from yatri.services.pricing import group_percent, gst_of, price_breakdown, with_gst

_CARD_PRICE = re.compile(r'<a href="/trips/([a-z0-9-]+)">.*?<p class="price"><strong>([^<]+)</strong>', re.DOTALL)


@pytest.mark.parametrize(
    ("taxable", "percent", "gst"),
    [(1_200_000, 5, 60_000), (10, 5, 1), (9, 5, 0), (1, 50, 1), (0, 18, 0), (999_999, 18, 180_000), (12_345, 0, 0)],
)
def test_gst_is_rounded_half_up_to_the_paisa(taxable, percent, gst):
    assert gst_of(taxable, percent) == gst and with_gst(taxable, percent) == taxable + gst


def test_a_breakdown_rounds_once_on_the_line_not_per_traveller():
    price = price_breakdown(1_010, 3, 5)  # ₹10.10 × 3: 5% is 151.5 paise on the line (50.5 each)
    assert (price.subtotal_paise, price.gst_paise, price.total_paise) == (3_030, 152, 3_182)


async def _two_trips() -> tuple[Trip, Trip]:
    """A tour at 5% and an event at 18%: cheaper before GST, dearer with it."""
    tour = (await make_departure(price_rupees=10_000, slug="river-tour", title="River tour", kind="tour")).trip
    event = (await make_departure(price_rupees=9_500, slug="music-night", title="Music night", kind="event", gst_percent=18)).trip
    return tour, event


async def test_cards_and_sorting_follow_the_price_with_gst(client):
    await _two_trips()
    cheapest = await search_trips(TripFilters(sort="price"), TODAY)
    assert [(c.trip.slug, c.price_paise) for c in cheapest.cards] == [("river-tour", 1_050_000), ("music-night", 1_121_000)]
    dearest = await search_trips(TripFilters(sort="price_desc"), TODAY)
    assert [c.trip.slug for c in dearest.cards] == ["music-night", "river-tour"]
    under = await search_trips(TripFilters(max_price=11_000), TODAY)  # ₹9,500 before GST, ₹11,210 with
    assert [c.trip.slug for c in under.cards] == ["river-tour"]

    html = await (await client.get("/trips?sort=price")).text()
    assert _CARD_PRICE.findall(html) == [("river-tour", "₹10,500"), ("music-night", "₹11,210")]
    assert "per person incl. GST" in html


async def test_the_trip_page_and_its_departures_show_the_price_with_the_trips_rate(client):
    _, event = await _two_trips()
    html = await (await client.get(f"/trips/{event.slug}")).text()
    assert "<strong>₹11,210</strong> per person incl. 18% GST" in html and "<td>₹11,210</td>" in html
    assert "₹9,500" not in html


async def test_the_api_gives_the_price_before_gst_its_rate_and_the_price_with_it(client):
    _, event = await _two_trips()
    listed = await (await client.get("/api/v1/trips?sort=price")).json()
    assert [(t["slug"], t["price_paise"], t["gst_percent"], t["price_with_gst_paise"]) for t in listed["items"]] == [
        ("river-tour", 1_000_000, 5, 1_050_000), ("music-night", 950_000, 18, 1_121_000),
    ]  # fmt: skip
    detail = await (await client.get(f"/api/v1/trips/{event.slug}")).json()
    assert [(d["price_paise"], d["price_with_gst_paise"]) for d in detail["departures"]] == [(950_000, 1_121_000)]


async def test_a_booking_is_charged_and_reviewed_at_its_trips_rate(client):
    _, event = await _two_trips()
    departure = await event.departures.all().first()
    csrf = await login(client, await make_user())
    review, _ = await review_page(client, departure, csrf)
    html = await review.text()
    assert "₹19,000" in html and "GST 18%" in html and "₹3,420" in html and "₹22,420" in html
    response = await client.post(f"/departures/{departure.id}/book", data=confirm_form(html), allow_redirects=False)
    assert response.status == 303
    booking = await Booking.get(departure_id=departure.id)
    assert (booking.subtotal_paise, booking.gst_paise, booking.gst_percent, booking.total_paise) == (1_900_000, 342_000, 18, 2_242_000)
    page = await (await client.get(response.headers["Location"])).text()
    assert "GST 18%" in page and "₹22,420" in page


@pytest.fixture
def settings(settings):
    """A site whose GST_PERCENT is 12: new trips start with it."""
    return type(settings)(**{**settings.__dict__, "gst_percent": 12})


async def test_a_new_trip_starts_with_the_sites_gst_rate_and_the_operator_may_change_it(client):
    manali = await Destination.create(slug="manali", name="Manali", region="Himachal Pradesh")
    ops = await make_user("ops@example.com", name="Ops", role=Role.ADMIN)
    token = await login(client, ops)
    form = {"csrf_token": token, "title": "Chandratal Camp", "slug": "", "kind": "tour", "destination": str(manali.id),
            "days": "3", "difficulty": "easy", "price": "6500", "summary": "Camp by the moon lake."}  # fmt: skip
    assert (await client.post("/admin/trips/new", data=form, allow_redirects=False)).status == 303
    trip = await Trip.get(slug="chandratal-camp")
    assert trip.gst_percent == 12

    edit = await (await client.get(f"/admin/trips/{trip.id}/fields/gst_percent/edit")).text()
    base = re.search(r'name="base" value="([^"]*)"', edit).group(1)
    version = re.search(r'name="version" value="([^"]*)"', edit).group(1)
    bad = await client.post(f"/admin/trips/{trip.id}/fields/gst_percent", data={"csrf_token": csrf_in(edit), "base": base, "version": version, "gst_percent": "40"})
    assert bad.status == 422 and "28" in await bad.text()
    saved = await client.post(f"/admin/trips/{trip.id}/fields/gst_percent", data={"csrf_token": csrf_in(edit), "base": base, "version": version, "gst_percent": "18"}, allow_redirects=False)
    assert saved.status == 303 and (await Trip.get(id=trip.id)).gst_percent == 18

    auth = await bearer_for(client, "ops@example.com")
    body = {"title": "Spiti drive", "kind": "tour", "destination": "manali", "days": 6, "difficulty": "easy",
            "price_paise": 2_000_000, "summary": "High desert roads."}  # fmt: skip
    made = await (await client.post("/api/v1/admin/trips", json=body, headers=auth)).json()
    assert made["gst_percent"] == 12 and made["price_with_gst_paise"] == 2_240_000
    event = await (await client.post("/api/v1/admin/trips", json={**body, "title": "Spiti fest", "gst_percent": 18}, headers=auth)).json()
    assert event["gst_percent"] == 18



# ---------------------------------------------------------------- group rates

TIERS = [{"min_travellers": 3, "percent": 5}, {"min_travellers": 6, "percent": 10}]


@pytest.mark.parametrize(("travellers", "percent"), [(1, 0), (2, 0), (3, 5), (5, 5), (6, 10), (50, 10)])
def test_the_group_rate_is_the_highest_tier_reached(travellers, percent):
    assert group_percent(TIERS, travellers) == percent
    assert group_percent([], travellers) == 0


def test_the_discount_and_then_gst_are_each_rounded_once_on_the_line():
    price = price_breakdown(1_010, 3, 5, 5)  # 3 × ₹10.10 = 3030; 5% off is 151.5 -> 152
    assert (price.list_paise, price.discount_paise, price.subtotal_paise) == (3_030, 152, 2_878)
    assert (price.gst_paise, price.total_paise) == (144, 3_022)  # 5% of 2878 is 143.9


async def test_a_group_books_at_its_rate_and_sees_the_discount_on_review_booking_and_api(client):
    departure = await make_departure(price_rupees=10_000, group_discounts=TIERS)
    user = await make_user()
    csrf = await login(client, user)
    companions = [{"full_name": f"Friend {n}", "age": "30"} for n in (2, 3)]
    review, _ = await review_page(client, departure, csrf, (LEAD_FORM, *companions))
    html = await review.text()
    assert "₹30,000" in html and "Group rate for 3 travellers: 5% off" in html and "−₹1,500" in html
    assert "₹1,425" in html and "₹29,925" in html  # GST on 28,500; the total
    response = await client.post(f"/departures/{departure.id}/book", data=confirm_form(html), allow_redirects=False)
    booking = await Booking.get(departure_id=departure.id)
    assert (booking.discount_percent, booking.discount_paise, booking.subtotal_paise, booking.total_paise) == (5, 150_000, 2_850_000, 2_992_500)
    page = await (await client.get(response.headers["Location"])).text()
    assert "Group rate: 5% off" in page and "−₹1,500" in page and "₹30,000" in page

    trip_page = await (await client.get(f"/trips/{departure.trip.slug}")).text()
    assert "3 or more in one booking: 5% off" in trip_page and "6 or more in one booking: 10% off" in trip_page
    auth = await bearer_for(client)
    body = await (await client.get(f"/api/v1/bookings/{booking.reference}", headers=auth)).json()
    assert (body["discount_percent"], body["discount_paise"], body["subtotal_paise"], body["gst_percent"]) == (5, 150_000, 2_850_000, 5)


async def test_the_operator_sets_group_rates_inline_and_through_the_api(client):
    departure = await make_departure()
    trip = departure.trip
    await make_user("ops@example.com", name="Ops", role=Role.ADMIN)
    await login(client, await User.get(email="ops@example.com"))
    edit = await (await client.get(f"/admin/trips/{trip.id}/fields/group_discounts/edit")).text()
    form = {"csrf_token": csrf_in(edit), "base": re.search(r'name="base" value="([^"]*)"', edit).group(1),
            "version": re.search(r'name="version" value="([^"]*)"', edit).group(1)}  # fmt: skip
    bad = await client.post(f"/admin/trips/{trip.id}/fields/group_discounts", data={**form, "group_discounts": "1: 10"})
    assert bad.status == 422 and "like 6: 10" in await bad.text()
    saved = await client.post(f"/admin/trips/{trip.id}/fields/group_discounts", data={**form, "group_discounts": "8: 12\n4: 5%"}, allow_redirects=False)
    assert saved.status == 303
    assert (await Trip.get(id=trip.id)).group_discounts == [{"min_travellers": 4, "percent": 5}, {"min_travellers": 8, "percent": 12}]

    auth = await bearer_for(client, "ops@example.com")
    etag = (await client.get(f"/api/v1/admin/trips/{trip.id}", headers=auth)).headers["ETag"]
    auth = {**auth, "If-Match": etag}
    refused = await client.patch(f"/api/v1/admin/trips/{trip.id}", json={"group_discounts": [{"min_travellers": 3, "percent": 95}]}, headers=auth)
    assert refused.status == 422 and "group_discounts" in await refused.text()
    changed = await client.patch(f"/api/v1/admin/trips/{trip.id}", json={"group_discounts": [{"min_travellers": 3, "percent": 7}]}, headers=auth)
    assert changed.status == 200, await changed.text()
    assert (await changed.json())["group_discounts"] == [{"min_travellers": 3, "percent": 7}]


# ---------------------------------------------------------------- the API's quote


async def test_the_api_quotes_a_booking_before_holding_seats(client):
    departure = await make_departure(price_rupees=10_000, group_discounts=TIERS, gst_percent=18, max_per_booking=8)
    response = await client.post("/api/v1/quotes", json={"departure_id": departure.id, "travellers": 6})
    assert response.status == 200, await response.text()
    assert await response.json() == {
        "departure_id": departure.id, "travellers": 6, "unit_price_paise": 1_000_000, "list_paise": 6_000_000,
        "discount_percent": 10, "discount_paise": 600_000, "subtotal_paise": 5_400_000, "gst_percent": 18,
        "gst_paise": 972_000, "total_paise": 6_372_000,
    }  # fmt: skip
    assert await Booking.all().count() == 0  # nothing held
    too_many = await client.post("/api/v1/quotes", json={"departure_id": departure.id, "travellers": 9})
    assert too_many.status == 422 and "1 to 8" in await too_many.text()
    missing = await client.post("/api/v1/quotes", json={"departure_id": 999_999, "travellers": 1})
    assert missing.status == 404


# ---------------------------------------------------------------- the money rule, for any price


def _half_up(numerator: int, denominator: int) -> int:
    exact = Fraction(numerator, denominator)
    return int(exact) + (1 if exact - int(exact) >= Fraction(1, 2) else 0)


@settings_of(max_examples=300, deadline=None)
@given(
    unit=st.integers(1, 10_000_000_00), seats=st.integers(1, 50), gst=st.integers(0, 28),
    tiers=st.lists(st.tuples(st.integers(2, 50), st.integers(1, 90)), max_size=4, unique_by=lambda t: t[0]),
)  # fmt: skip
def test_every_breakdown_adds_up_and_rounds_each_line_once(unit, seats, gst, tiers):
    percent = group_percent([{"min_travellers": n, "percent": p} for n, p in tiers], seats)
    price = price_breakdown(unit, seats, gst, percent)
    assert price.list_paise == unit * seats
    assert price.discount_paise == _half_up(price.list_paise * percent, 100) and price.discount_paise <= price.list_paise
    assert price.subtotal_paise == price.list_paise - price.discount_paise
    assert price.gst_paise == _half_up(price.subtotal_paise * gst, 100)
    assert price.total_paise == price.subtotal_paise + price.gst_paise
    reached = [(n, p) for n, p in tiers if seats >= n]
    assert percent == (max(reached)[1] if reached else 0)  # the tier with the most travellers reached
