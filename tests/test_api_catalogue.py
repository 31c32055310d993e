"""The catalogue over the JSON API: the same service and filters as the /trips page."""

from datetime import UTC, datetime, time, timedelta

from yatri.models import Departure

from tests.booking_data import make_departure
from tests.catalogue_data import book, make_catalogue
from tests.helpers import app, clock  # noqa: F401 - fixtures


async def test_trip_list_filters_and_pages_like_the_html_page(client):
    await make_catalogue()
    response = await client.get("/api/v1/trips", params={"destination": "manali", "sort": "price"})
    assert response.status == 200
    body = await response.json()
    assert [t["slug"] for t in body["items"]] == ["bhrigu-lake-trek", "hampta-pass-trek"]  # secret-trek unpublished
    assert body["items"][0]["price_paise"] == 745_000 and body["total"] == 2
    page_two = await (await client.get("/api/v1/trips", params={"page": "2"})).json()
    assert page_two["page"] == 2 and page_two["total"] == 17 and len(page_two["items"]) == 7
    search = await (await client.get("/api/v1/trips", params={"q": "floats"})).json()
    assert [t["slug"] for t in search["items"]] == ["goa-carnival"]


async def test_invalid_filters_are_422_with_each_field(client):
    await make_catalogue()
    response = await client.get(
        "/api/v1/trips", params={"min_price": "-5", "page": "abc", "destination": "atlantis", "from": "2030-02-01", "to": "2030-01-01"}
    )
    assert response.status == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    fields = {e["field"] for e in (await response.json())["errors"]}
    assert {"min_price", "page", "destination"} <= fields and ({"to"} & fields or {"from"} & fields)


async def test_trip_detail_has_departures_with_seats_left(client):
    trips = await make_catalogue()
    departure = (await trips["hampta-pass-trek"].departures.all().order_by("starts_on"))[0]
    await book(departure, 8)
    response = await client.get("/api/v1/trips/hampta-pass-trek")
    assert response.status == 200
    body = await response.json()
    first = body["departures"][0]
    assert first["id"] == departure.id and first["seats_left"] == 2 and first["state"] == "filling_fast"
    assert body["itinerary"][0]["day"] == 1 and body["next_departure"] == first["starts_on"]


async def test_unknown_and_unpublished_trips_are_404(client):
    await make_catalogue()
    for slug in ("secret-trek", "no-such-trip"):
        response = await client.get(f"/api/v1/trips/{slug}")
        assert response.status == 404
        assert (await response.json())["status"] == 404


async def test_destinations(client):
    await make_catalogue()
    listing = await (await client.get("/api/v1/destinations")).json()
    assert [d["slug"] for d in listing["items"]] == ["goa", "hampi", "manali"]
    manali = await (await client.get("/api/v1/destinations/manali")).json()
    assert {t["slug"] for t in manali["trips"]} == {"hampta-pass-trek", "bhrigu-lake-trek"}
    assert (await client.get("/api/v1/destinations/atlantis")).status == 404


async def test_the_api_uses_the_operators_date_like_the_pages(client, clock):
    """At 00:30 in India (19:00 UTC the day before) a departure leaving that day is no
    longer sold: neither the page nor the API lists it, though the UTC date is a day earlier."""
    departure = await make_departure(days_ahead=3)
    clock.now = datetime.combine(departure.starts_on - timedelta(days=1), time(19, 0), UTC)
    slug, later = departure.trip.slug, await make_later_departure(departure)
    body = await (await client.get(f"/api/v1/trips/{slug}")).json()
    assert [d["id"] for d in body["departures"]] == [later.id]
    assert body["next_departure"] == later.starts_on.isoformat()
    listed = await (await client.get("/api/v1/trips", params={"from": departure.starts_on.isoformat()})).json()
    assert [(t["slug"], t["next_departure"]) for t in listed["items"]] == [(slug, later.starts_on.isoformat())]
    page = await (await client.get(f"/trips/{slug}")).text()
    assert f'/departures/{departure.id}/' not in page and f'/departures/{later.id}/' in page


async def make_later_departure(departure: Departure) -> Departure:
    start = departure.starts_on + timedelta(days=7)
    return await Departure.create(trip=departure.trip, starts_on=start, ends_on=start + timedelta(days=4), capacity=10)
