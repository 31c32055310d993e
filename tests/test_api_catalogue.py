"""The catalogue over the JSON API: the same service and filters as the /trips page."""

from tests.catalogue_data import book, make_catalogue


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
