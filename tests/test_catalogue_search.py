"""Search gives the same results on SQLite and PostgreSQL for the demo data.

Both runs are checked against one reference written in Python (every word must appear,
in any case, in the title, summary, description or the destination's name or region),
so SQLite and PostgreSQL agree with it and so with each other.
"""

from tests.catalogue_data import TODAY
from yatri.demo import load_demo_data
from yatri.models import Trip
from yatri.services.catalogue import TripFilters, search_trips

QUERIES = [
    "trek", "TREK", "Trek manali", "himachal", "lake", "fort palace", "goa beach", "snow",
    "festival", "river rafting", "kerala tea", "spiti monastery", "meghalaya root", "hampi",
    "jaipur", "coorg coffee", "100%", "a_b", "zzz-nothing", "pass", "the", "  valley   of  ",
]  # fmt: skip


async def _reference(q: str) -> set[str]:
    words = [w.upper() for w in q.split()]
    matches = set()
    for trip in await Trip.filter(is_published=True).select_related("destination"):
        fields = [trip.title, trip.summary, trip.description, trip.destination.name, trip.destination.region]
        if all(any(w in f.upper() for f in fields) for w in words):
            matches.add(trip.slug)
    return matches


async def _all_pages(filters: TripFilters) -> list[str]:
    first = await search_trips(filters, TODAY)
    slugs = [c.trip.slug for c in first.cards]
    for page in range(2, first.pages + 1):
        result = await search_trips(TripFilters(**{**filters.__dict__, "page": page}), TODAY)
        slugs += [c.trip.slug for c in result.cards]
    assert len(slugs) == first.total == len(set(slugs))
    return slugs


async def test_search_matches_the_reference_on_demo_data(client):
    await load_demo_data()
    some = 0
    for q in QUERIES:
        found = await _all_pages(TripFilters(q=q.strip()))
        assert set(found) == await _reference(q), q
        some += bool(found)
    assert some >= 15  # the queries really find things

    # Page weights with the demo data, uncompressed (the bench measures the gzip bytes).
    fragment = await client.get("/trips?q=&kind=trek&sort=price", headers={"HX-Request": "true"})
    assert len(await fragment.read()) <= 8 * 1024
    page = await client.get("/trips")
    assert len(await page.read()) <= 20 * 1024


    for sort in ("next", "price", "price_desc", "duration"):
        await _check_sorted(sort)


async def _check_sorted(sort: str) -> None:
    slugs = await _all_pages(TripFilters(sort=sort))
    assert len(slugs) == await Trip.filter(is_published=True).count()
    trips = {t.slug: t for t in await Trip.filter(is_published=True)}
    prices = [trips[s].price_paise for s in slugs]
    if sort == "price":
        assert prices == sorted(prices)
    if sort == "price_desc":
        assert prices == sorted(prices, reverse=True)
    if sort == "duration":
        assert [trips[s].days for s in slugs] == sorted(trips[s].days for s in slugs)
