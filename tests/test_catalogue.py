"""The catalogue on both databases: filters, sort, pagination, search, pages, caching."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from tests.catalogue_data import TODAY, book, day, make_catalogue
from yatri.keys import CatalogueCacheKey
from yatri.models import BookingStatus, Departure, Destination, Trip
from yatri.services import catalogue
from yatri.services.catalogue import TripFilters, check_filters, search_trips
from yatri.services.catalogue_query import parse_filters

_CARD = re.compile(r'<a href="/trips/([a-z0-9-]+)"><span class="tag')


def slugs_in(html: str) -> list[str]:
    return _CARD.findall(html)


async def _search(**filters) -> list[str]:
    result = await search_trips(TripFilters(**filters), TODAY)
    return [card.trip.slug for card in result.cards]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"q": "trek"}, ["bhrigu-lake-trek", "hampta-pass-trek"]),  # unpublished Secret Trek left out
        ({"q": "TREK manali"}, ["bhrigu-lake-trek", "hampta-pass-trek"]),  # every word, any field, any case
        ({"q": "himachal"}, ["bhrigu-lake-trek", "hampta-pass-trek"]),  # destination region
        ({"q": "music"}, ["goa-carnival"]),  # description
        ({"q": "100%"}, ["hampi-ruins-walk"]),  # LIKE wildcards are literal
        ({"q": "es_o"}, ["hampi-ruins-walk"]),  # a literal underscore ("temples_old")
        ({"q": "e_s"}, []),  # as a wildcard it would match "Boulders"
        ({"q": "lake nowhere"}, []),
        ({"kind": "trek"}, ["bhrigu-lake-trek", "hampta-pass-trek"]),
        ({"kind": "tour", "q": "ruins"}, ["hampi-ruins-walk"]),
        ({"destination": "goa", "kind": "event"}, ["goa-carnival"]),
        ({"difficulty": "moderate", "max_price": 8000}, ["bhrigu-lake-trek"]),
        # Prices filter as shown, with 5% GST: 9,950 is 10,447.50 and 4,500 is 4,725.
        ({"min_price": 4725, "max_price": 10448}, ["bhrigu-lake-trek", "hampta-pass-trek", "hampi-ruins-walk"]),
        ({"min_price": 4726, "max_price": 10447}, ["bhrigu-lake-trek"]),
        ({"date_from": day(8), "date_to": day(25)}, ["hampta-pass-trek", "hampi-ruins-walk"]),
        ({"date_from": day(30), "date_to": day(45), "kind": "trek"}, ["hampta-pass-trek"]),
        ({"date_to": day(4)}, []),  # the old tour's past run does not count
        ({"q": "walk", "sort": "price_desc", "destination": "hampi"}, ["hampi-ruins-walk"]),
    ],
)
async def test_filter_combinations(client, filters, expected):
    await make_catalogue()
    assert await _search(**filters) == expected


async def test_sorts_and_pagination(client):
    trips = await make_catalogue()
    by_next = await search_trips(TripFilters(), TODAY)
    assert by_next.total == 17 and by_next.pages == 2 and len(by_next.cards) == 10
    # Soonest departure first; a trip with no future departure last.
    assert [c.trip.slug for c in by_next.cards[:4]] == ["bhrigu-lake-trek", "hampta-pass-trek", "hampi-ruins-walk", "goa-carnival"]
    assert by_next.cards[0].next_departure == day(5)
    second = await search_trips(TripFilters(page=2), TODAY)
    assert len(second.cards) == 7 and second.cards[-1].trip.slug == "old-tour" and second.cards[-1].next_departure is None
    everything = [c.trip.slug for c in by_next.cards + second.cards]
    assert sorted(everything) == sorted(s for s, t in trips.items() if t.is_published)

    cheapest = await search_trips(TripFilters(sort="price"), TODAY)
    assert [c.trip.slug for c in cheapest.cards[:2]] == ["coastal-walk-1", "coastal-walk-2"]
    dearest = await search_trips(TripFilters(sort="price_desc"), TODAY)
    assert [c.trip.slug for c in dearest.cards[:2]] == ["old-tour", "hampta-pass-trek"]
    longest_last = await search_trips(TripFilters(sort="duration", page=2), TODAY)
    assert longest_last.cards[-1].trip.slug == "old-tour"
    beyond = await search_trips(TripFilters(page=9), TODAY)
    assert beyond.page == 2 and len(beyond.cards) == 7


def test_invalid_filters_are_reported_one_by_one():
    params = {
        "q": "x" * 101, "destination": "atlantis", "kind": "cruise", "difficulty": "insane",
        "from": "2026-12-10", "to": "2026-12-01", "min_price": "-5", "max_price": "abc",
        "sort": "random", "page": "abc",
    }  # fmt: skip
    filters, errors = parse_filters(params, ["goa"])
    assert set(errors) == {"q", "destination", "kind", "difficulty", "to", "min_price", "max_price", "sort", "page"}
    assert filters == TripFilters(date_from=datetime(2026, 12, 10).date())  # only the valid one is kept
    assert "too long" in errors["q"] and "on or after" in errors["to"]
    _, errors = parse_filters({"from": "31/12/2026", "min_price": "9000", "max_price": "100", "page": "0"}, [])
    assert set(errors) == {"from", "max_price", "page"}
    filters, errors = parse_filters({"min_price": "1,500", "page": "2", "q": "  goa  "}, [])
    assert not errors and filters.min_price == 1500 and filters.page == 2 and filters.q == "goa"
    filters, errors = parse_filters({"q": "goa\x00\tbeach"}, [])
    assert not errors and filters.q == "goa beach"  # control characters are spaces, runs of spaces one


def test_typed_filters_are_checked_by_the_same_rules():
    typed = TripFilters(kind="cruise", date_from=datetime(1999, 1, 1).date(), min_price=900, max_price=100, page=0)
    filters, errors = check_filters(typed, [])
    assert set(errors) == {"kind", "from", "max_price", "page"}
    assert "from 2000-01-01" in errors["from"] and errors["page"] == "That page number is not valid, so here is the first page."
    assert filters == TripFilters(min_price=900)


async def test_trips_page_shows_messages_next_to_bad_filters(client):
    await make_catalogue()
    response = await client.get(
        "/trips", params={"from": day(30).isoformat(), "to": day(1).isoformat(), "min_price": "-5", "max_price": "abc",
                          "destination": "atlantis", "page": "abc", "q": "trek" * 40, "kind": "trek"}
    )  # fmt: skip
    html = await response.text()
    assert response.status == 200
    assert 'id="err-to">The “to” date must be on or after the “from” date.</p>' in html
    assert 'id="err-min_price">Enter a price in whole rupees' in html
    assert 'id="err-max_price">Enter a price in whole rupees' in html
    assert 'id="err-destination">We do not know that destination' in html
    assert 'id="err-q">Search text is too long' in html
    assert 'id="err-page">That page number is not valid' in html
    assert slugs_in(html) == ["hampta-pass-trek"]  # the valid kind and from filters still apply
    weird = await client.get("/trips", params={"q": "ham\x00pta", "min_price": "١٢", "page": "9" * 30, "from": "2026-02-30"})
    html = await weird.text()
    assert weird.status == 200 and 'id="err-min_price">Enter a price' in html and 'id="err-from">Enter a date' in html


async def test_htmx_gets_only_the_results_and_a_clean_url(client):
    await make_catalogue()
    params = {"q": "trek", "destination": "", "kind": "", "min_price": "", "sort": "price", "page": ""}
    full = await client.get("/trips", params=params)
    fragment = await client.get("/trips", params=params, headers={"HX-Request": "true"})
    full_html, fragment_html = await full.text(), await fragment.text()
    assert "<html" in full_html and "<html" not in fragment_html and 'id="filters"' not in fragment_html
    assert fragment.headers["HX-Push-Url"] == "/trips?q=trek&sort=price"
    assert slugs_in(fragment_html) == slugs_in(full_html) == ["bhrigu-lake-trek", "hampta-pass-trek"]
    assert 'id="err-q" hx-swap-oob="true"' in fragment_html  # clears old messages by the filters
    restore = await client.get(
        "/trips", params=params, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in await restore.text()
    page2 = await client.get("/trips", params={"page": "2"}, headers={"HX-Request": "true"})
    assert page2.headers["HX-Push-Url"] == "/trips?page=2"
    assert 'rel="prev" href="/trips"' in await page2.text()


async def test_trip_page_shows_departures_with_seats_and_states(client):
    trips = await make_catalogue()
    now = datetime.now(UTC)
    first, second = await Departure.filter(trip=trips["hampta-pass-trek"]).order_by("starts_on")
    await book(first, 3)
    await book(first, 2, BookingStatus.HELD, now + timedelta(minutes=10))
    await book(first, 4, BookingStatus.PENDING_PAYMENT, now - timedelta(seconds=1))  # lapsed: no seats
    await book(first, 5, BookingStatus.CANCELLED)
    await book(second, 10)
    page = await catalogue.trip_page("hampta-pass-trek", TODAY, now)
    assert [(v.seats_left, v.state) for v in page.departures] == [(5, "available"), (0, "sold_out")]
    await book(first, 2, BookingStatus.PAYMENT_SUBMITTED, now + timedelta(hours=30))
    page = await catalogue.trip_page("hampta-pass-trek", TODAY, now)
    assert page.departures[0].seats_left == 3 and page.departures[0].state == "filling_fast"

    response = await client.get("/trips/hampta-pass-trek")
    html = await response.text()
    assert response.status == 200
    assert f'href="/departures/{first.id}/book"' in html and f'href="/departures/{second.id}/book"' not in html
    assert "Filling fast" in html and "Sold out" in html
    assert "Day 5: Day 5 of Hampta Pass Trek" in html and "Insurance" in html and "90% refund" in html
    assert "₹10,447.50" in html and "₹9,950" not in html  # the price with 5% GST


async def test_cancelled_and_started_departures_are_not_listed_and_closed_ones_not_sold(client):
    trips = await make_catalogue()
    first, second = await Departure.filter(trip=trips["hampta-pass-trek"]).order_by("starts_on")
    first.sales_closed = True
    await first.save()
    second.cancelled_at = datetime.now(UTC)
    await second.save()
    await Departure.create(trip=trips["hampta-pass-trek"], starts_on=TODAY, ends_on=TODAY + timedelta(days=4), capacity=9)
    await catalogue.bump_version()
    html = await (await client.get("/trips/hampta-pass-trek")).text()
    assert "Booking closed" in html and "/book" not in html
    assert html.count("<tr class=\"state-") == 1  # the cancelled run and today's are not shown


async def test_unknown_and_unpublished_pages_are_404(client):
    await make_catalogue()
    for path in ("/trips/secret-trek", "/trips/no-such-trip", "/destinations/atlantis"):
        response = await client.get(path)
        assert response.status == 404, path
        assert "<html" in await response.text()


async def test_destination_and_home_pages(client):
    trips = await make_catalogue()
    html = await (await client.get("/destinations/manali")).text()
    assert slugs_in(html) == ["bhrigu-lake-trek", "hampta-pass-trek"]  # not the unpublished one
    sold_out = await Departure.get(trip=trips["bhrigu-lake-trek"])
    await book(sold_out, 10)
    home = await (await client.get("/")).text()
    featured = slugs_in(home)
    assert featured[0] == "hampta-pass-trek" and len(featured) == 6  # featured first, topped up
    assert "secret-trek" not in featured
    upcoming = home.split('id="upcoming-heading"')[1].split('id="places-heading"')[0]
    assert "Bhrigu Lake Trek" not in upcoming  # sold out: not offered among next departures
    assert upcoming.index("Hampta Pass Trek") < upcoming.index("Hampi Ruins Walk")
    assert "10 seats left" in upcoming
    assert 'href="/destinations/hampi"' in home and "1 trip<" in home


async def test_repeat_request_gets_304_until_seats_change(client):
    trips = await make_catalogue()
    for path in ("/trips?q=trek", "/trips/hampta-pass-trek", "/", "/destinations/goa"):
        first = await client.get(path)
        etag = first.headers["ETag"]
        assert etag.startswith('W/"') and first.headers["Cache-Control"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status == 304, path
        assert again.headers["ETag"] == etag and not await again.read()
    assert (await client.get("/trips/hampta-pass-trek")).headers["Cache-Control"] == "private, no-cache"
    departure = await Departure.filter(trip=trips["hampta-pass-trek"]).first()
    await book(departure, 1)
    trip_etag = (await client.get("/trips/hampta-pass-trek")).headers["ETag"]
    await book(departure, 1)
    after = await client.get("/trips/hampta-pass-trek", headers={"If-None-Match": trip_etag})
    assert after.status == 200 and after.headers["ETag"] != trip_etag


async def test_catalogue_change_invalidates_the_query_cache(client, app):
    trips = await make_catalogue()
    cache = app[CatalogueCacheKey]
    assert slugs_in(await (await client.get("/trips?q=ruins")).text()) == ["hampi-ruins-walk"]
    misses = cache.misses
    assert slugs_in(await (await client.get("/trips?q=ruins")).text()) == ["hampi-ruins-walk"]
    assert cache.misses == misses and cache.hits > 0  # served from the cache

    # A change that does not bump the version is not seen: the cache is really used...
    await Trip.filter(id=trips["hampi-ruins-walk"].id).update(title="Hampi Temple Walk")
    assert "Hampi Ruins Walk" in await (await client.get("/trips?q=ruins")).text()
    # ...and a change made the proper way, with bump_version in its transaction, is seen at once.
    async with in_transaction():
        await Trip.filter(id=trips["hampi-ruins-walk"].id).update(title="Hampi Boulder Walk", summary="Boulders.")
        await catalogue.bump_version()
    html = await (await client.get("/trips?q=ruins")).text()
    assert slugs_in(html) == [] and "No trips match" in html
    assert slugs_in(await (await client.get("/trips?q=boulder")).text()) == ["hampi-ruins-walk"]
    assert "Hampi Boulder Walk" in await (await client.get("/trips/hampi-ruins-walk")).text()


async def test_version_row_is_shared_and_counts_up(client):
    assert await catalogue.current_version() == 0
    assert await catalogue.bump_version() == 1
    assert await catalogue.bump_version() == 2
    other_process = catalogue.QueryCache()
    calls = []

    async def compute():
        calls.append(1)
        return len(calls)

    assert await other_process.get(("k",), compute) == 1
    assert await other_process.get(("k",), compute) == 1
    await catalogue.bump_version()
    assert await other_process.get(("k",), compute) == 1  # until the next request syncs
    await other_process.sync()
    assert await other_process.get(("k",), compute) == 2


async def test_a_plain_visit_to_trips_goes_back_to_the_last_filters_until_cleared(client):
    await make_catalogue()
    filtered = await client.get("/trips", params={"kind": "trek", "sort": "price", "q": "", "page": "1"})
    cookie = filtered.cookies["yatri_trips"]
    assert cookie.value == "kind=trek&sort=price" and cookie["path"] == "/trips" and cookie["httponly"]
    back = await client.get("/trips", allow_redirects=False)
    assert back.status == 302 and back.headers["Location"] == "/trips?kind=trek&sort=price"
    assert back.headers["Cache-Control"] == "private, no-cache"
    html = await (await client.get("/trips")).text()
    assert slugs_in(html) == ["bhrigu-lake-trek", "hampta-pass-trek"]  # cheapest first
    assert 'href="/trips?clear=1"' in html

    cleared = await client.get("/trips?clear=1")
    assert cleared.status == 200 and cleared.cookies["yatri_trips"].value == ""
    assert (await client.get("/trips", allow_redirects=False)).status == 200


async def test_a_remembered_filter_cookie_that_is_not_filters_is_ignored(client):
    await make_catalogue()
    client.session.cookie_jar.update_cookies({"yatri_trips": "evil=1&page=3&%FF=x"}, client.make_url("/trips"))
    assert (await client.get("/trips", allow_redirects=False)).status == 200
    client.session.cookie_jar.update_cookies({"yatri_trips": "kind=spaceship"}, client.make_url("/trips"))
    moved = await client.get("/trips", allow_redirects=False)
    assert moved.headers["Location"] == "/trips?kind=spaceship"
    shown = await client.get(moved.headers["Location"])
    assert "Pick a trip type from the list." in await shown.text()
    assert shown.cookies["yatri_trips"].value == ""  # forgotten: the next plain visit is plain


async def test_the_destination_choices_keep_their_size_however_many_destinations(client):
    await make_catalogue()
    for n in range(catalogue.MAX_DESTINATION_CHOICES + 6):
        place = await Destination.create(slug=f"place-{n}", name=f"Place {n:02d}", region="Far")
        await Trip.create(slug=f"walk-{n}", title=f"Walk {n}", kind="tour", destination=place, days=1,
                          difficulty="easy", price_paise=100_00, summary="A walk.", is_published=True)  # fmt: skip
    html = await (await client.get("/trips")).text()
    select = html.split('id="f-destination"')[1].split("</select>")[0]
    assert select.count("<option") == catalogue.MAX_DESTINATION_CHOICES + 1  # and "Anywhere"
    assert 'value="goa"' in select and 'value="manali"' in select  # the busiest (13 and 3 trips) are there
    left_out = next(f"place-{n}" for n in range(40) if f'value="place-{n}"' not in select)
    filtered = await (await client.get(f"/trips?destination={left_out}")).text()
    assert f'value="{left_out}" selected' in filtered and slugs_in(filtered) == [f"walk-{left_out.split('-')[1]}"]
    home = await (await client.get("/")).text()
    assert home.split('id="places-heading"')[1].count("<li>") == catalogue.MAX_DESTINATION_CHOICES


async def test_card_next_departure_skips_sold_out_and_closed_runs(client):
    trips = await make_catalogue()
    first, second = await Departure.filter(trip=trips["hampta-pass-trek"]).order_by("starts_on")
    third = await Departure.create(
        trip=trips["hampta-pass-trek"], starts_on=second.starts_on + timedelta(days=10),
        ends_on=second.starts_on + timedelta(days=14), capacity=5,
    )  # fmt: skip
    await book(first, first.capacity)  # sold out
    second.sales_closed = True
    await second.save()
    await catalogue.bump_version()
    html = await (await client.get("/trips?q=hampta")).text()
    assert "next " + third.starts_on.strftime("%d %b") in html
    assert "next " + first.starts_on.strftime("%d %b") not in html and "next " + second.starts_on.strftime("%d %b") not in html
