"""Search engines and link previews: the sitemap, robots.txt, canonical links, Open Graph
and Twitter tags, and JSON-LD valid by the schema.org vocabulary (tests/schemaorg.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from yatri.models import Departure, Destination, Trip

from tests.catalogue_data import make_catalogue
from tests.schemaorg import vocabulary

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "http://127.0.0.1:8080"  # the default BASE_URL
# What search engines need of each type to show a rich result (Google's required fields).
REQUIRED = {
    "TouristTrip": {"name", "description", "url", "offers"},
    "Event": {"name", "startDate", "location", "offers"},
    "Offer": {"price", "priceCurrency", "availability", "url"},
    "BreadcrumbList": {"itemListElement"},
    "ListItem": {"position", "name"},
    "TouristDestination": {"name", "url"},
}


def json_ld(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def meta(html: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    return match[1] if match else None


def missing_required(node, where="$") -> list[str]:
    if isinstance(node, list):
        return [p for n, item in enumerate(node) for p in missing_required(item, f"{where}[{n}]")]
    if not isinstance(node, dict):
        return []
    found = [f"{where}: {node['@type']} lacks {key}" for key in sorted(REQUIRED.get(node.get("@type"), set()) - set(node))]
    return found + [p for key, value in node.items() for p in missing_required(value, f"{where}.{key}")]


async def test_sitemap_lists_published_trips_and_their_destinations_with_last_modified(client):
    trips = await make_catalogue()
    await Destination.create(slug="empty-place", name="Nowhere", region="None")
    response = await client.get("/sitemap.xml")
    assert response.status == 200 and response.content_type == "application/xml"
    root = ET.fromstring(await response.text())
    entries = {url.find(f"{SITEMAP}loc").text: url.find(f"{SITEMAP}lastmod") for url in root.iter(f"{SITEMAP}url")}
    published = {slug for slug, trip in trips.items() if trip.is_published}
    assert {loc for loc in entries if "/trips/" in loc} == {f"{BASE}/trips/{slug}" for slug in published}
    assert {loc for loc in entries if "/destinations/" in loc} == {f"{BASE}/destinations/{s}" for s in ("manali", "goa", "hampi")}
    assert f"{BASE}/trips/secret-trek" not in entries and f"{BASE}/destinations/empty-place" not in entries
    hampi = await Trip.get(slug="hampi-ruins-walk")
    lastmod = datetime.fromisoformat(entries[f"{BASE}/trips/hampi-ruins-walk"].text.replace("Z", "+00:00"))
    assert abs(lastmod - hampi.updated_at) < timedelta(seconds=1)


async def test_robots_keeps_private_pages_out_and_names_the_sitemap(client):
    response = await client.get("/robots.txt")
    text = await response.text()
    assert response.status == 200 and response.content_type == "text/plain"
    for path in ("/admin", "/account", "/bookings", "/api/"):
        assert f"Disallow: {path}\n" in text
    assert f"Sitemap: {BASE}/sitemap.xml" in text
    assert "Disallow: /trips" not in text


async def test_trip_page_has_canonical_link_sharing_tags_and_cover_image(client):
    await make_catalogue()
    trip = await Trip.get(slug="hampta-pass-trek")
    trip.images = [{"alt": "The pass", "width": 1600, "height": 900, "variants": [
        {"url": "/media/a-640.webp", "width": 640, "height": 360}, {"url": "/media/a-1280.webp", "width": 1280, "height": 720},
    ]}]  # fmt: skip
    await trip.save()
    html = await (await client.get("/trips/hampta-pass-trek?utm_source=x")).text()
    assert f'<link rel="canonical" href="{BASE}/trips/hampta-pass-trek">' in html
    assert meta(html, "og:url") == f"{BASE}/trips/hampta-pass-trek"
    assert meta(html, "og:title").startswith("Hampta Pass Trek")
    assert meta(html, "og:description") == trip.summary
    assert meta(html, "og:image") == f"{BASE}/media/a-1280.webp" == meta(html, "twitter:image")
    assert meta(html, "twitter:card") == "summary_large_image"
    no_image = await (await client.get("/trips/bhrigu-lake-trek")).text()
    assert meta(no_image, "og:image") is None and meta(no_image, "twitter:card") == "summary"


async def test_trip_json_ld_is_a_tourist_trip_with_an_offer_per_departure(client):
    await make_catalogue()
    html = await (await client.get("/trips/hampta-pass-trek")).text()
    data = json_ld(html)
    assert [node["@type"] for node in data] == ["TouristTrip", "BreadcrumbList"]
    assert vocabulary().problems(data) == [] and missing_required(data) == []
    trip, crumbs = data
    departures = await Departure.filter(trip__slug="hampta-pass-trek").order_by("starts_on")
    assert [o["availabilityStarts"] for o in trip["offers"]] == [d.starts_on.isoformat() for d in departures]
    assert {o["price"] for o in trip["offers"]} == {"10447.50"}  # 9,950 with 5% GST, per person
    assert {o["priceCurrency"] for o in trip["offers"]} == {"INR"}
    assert [o["url"] for o in trip["offers"]] == [f"{BASE}/departures/{d.id}/book" for d in departures]
    assert trip["offers"][0]["availability"] == "https://schema.org/InStock"
    assert [item["name"] for item in crumbs["itemListElement"]] == ["Trips", "Manali", "Hampta Pass Trek"]
    assert crumbs["itemListElement"][-1]["item"] == f"{BASE}/trips/hampta-pass-trek"


async def test_sold_out_and_closed_departures_are_offers_marked_sold_out(client):
    await make_catalogue()
    departure = await Departure.filter(trip__slug="hampta-pass-trek").order_by("starts_on").first()
    departure.sales_closed = True
    await departure.save()
    trip = json_ld(await (await client.get("/trips/hampta-pass-trek")).text())[0]
    assert [o["availability"].rsplit("/", 1)[1] for o in trip["offers"]] == ["SoldOut", "InStock"]
    assert trip["offers"][0]["url"] == f"{BASE}/trips/hampta-pass-trek"  # no link to a form that refuses


async def test_event_json_ld_is_one_event_per_run_with_place_and_offer(client):
    await make_catalogue()
    data = json_ld(await (await client.get("/trips/goa-carnival")).text())
    assert [node["@type"] for node in data] == ["Event", "BreadcrumbList"]
    assert vocabulary().problems(data) == [] and missing_required(data) == []
    event = data[0]
    departure = await Departure.get(trip__slug="goa-carnival")
    assert event["startDate"] == departure.starts_on.isoformat() and event["endDate"] == departure.ends_on.isoformat()
    assert event["location"]["name"] == "Goa" and event["offers"]["price"] == "3150.00"


async def test_destination_json_ld_and_escaping_inside_the_script(client):
    await make_catalogue()
    place = await Destination.get(slug="hampi")
    place.description = "Boulders </script><script>alert(1)</script> & temples"
    await place.save()
    html = await (await client.get("/destinations/hampi")).text()
    assert "<script>alert(1)" not in html
    data = json_ld(html)
    assert [node["@type"] for node in data] == ["TouristDestination", "BreadcrumbList"]
    assert vocabulary().problems(data) == [] and missing_required(data) == []
    assert data[0]["description"] == place.description


def test_the_vocabulary_check_catches_unknown_types_properties_and_values():
    problems = vocabulary().problems(
        {"@type": "TouristTrip", "offerz": [], "offers": [{"@type": "Ofer"}, {"@type": "Offer", "availability": "https://schema.org/Instock"}]}
    )
    assert problems == [
        "$: TouristTrip has no property 'offerz'",
        "$.offers[0]: @type 'Ofer' is not a schema.org type",
        "$.offers[1].availability: https://schema.org/Instock is not a schema.org value",
    ]
    assert missing_required({"@type": "Offer", "price": "1"}) == ["$: Offer lacks availability", "$: Offer lacks priceCurrency", "$: Offer lacks url"]
