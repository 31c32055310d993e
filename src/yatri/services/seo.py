"""What search engines and link previews read: the sitemap's entries and the pages'
schema.org data (JSON-LD). Plain values in, plain dicts out; the web layer serialises them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from yatri.models.catalogue import Destination, Trip, TripKind
from yatri.services import media
from yatri.services.money import amount_text

SCHEMA = "https://schema.org"
# What the sale state of a departure means to a search engine.
_AVAILABILITY = {"available": "InStock", "filling_fast": "LimitedAvailability", "sold_out": "SoldOut", "closed": "SoldOut"}


@dataclass(frozen=True)
class SitemapEntry:
    path: str
    updated_at: datetime


async def sitemap_entries() -> list[SitemapEntry]:
    """Published trips, and the destinations that have one, with when each last changed."""
    trips = await Trip.filter(is_published=True).order_by("slug").values("slug", "updated_at", "destination_id")
    shown = {t["destination_id"] for t in trips}
    places = await Destination.filter(id__in=list(shown)).order_by("slug").values("slug", "updated_at") if shown else []
    return [
        *(SitemapEntry(f"/destinations/{d['slug']}", d["updated_at"]) for d in places),
        *(SitemapEntry(f"/trips/{t['slug']}", t["updated_at"]) for t in trips),
    ]


def absolute(base_url: str, url: str) -> str:
    """An image or page address as a full URL (local media are served under BASE_URL)."""
    return url if url.startswith(("http://", "https://")) else base_url + url


def cover_url(images: list[dict], base_url: str) -> str:
    """The first image at a size link previews use (1200 px wide, or the largest there is)."""
    return absolute(base_url, media.src(images[0], 1200)) if images else ""


def breadcrumbs(base_url: str, crumbs: list[tuple[str, str]]) -> dict:
    """A BreadcrumbList of (name, path) pairs, the page itself last."""
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": base_url + path}
            for n, (name, path) in enumerate(crumbs, start=1)
        ],
    }


def trip_data(trip: Trip, departures: list, base_url: str, operator: str) -> list[dict]:
    """JSON-LD for a trip page: a TouristTrip with one Offer per listed departure (an event
    is one Event per run instead), and its breadcrumbs. `departures` are the page's views
    (a departure, its sale state)."""
    url = f"{base_url}/trips/{trip.slug}"
    images = [absolute(base_url, media.src(image, 1200)) for image in trip.images]
    organizer = {"@type": "Organization", "name": operator, "url": base_url + "/"}
    offers = [_offer(view, url, base_url) for view in departures]
    crumbs = breadcrumbs(base_url, [
        ("Trips", "/trips"), (trip.destination.name, f"/destinations/{trip.destination.slug}"), (trip.title, f"/trips/{trip.slug}"),
    ])  # fmt: skip
    if trip.kind == TripKind.EVENT:
        events = [_event(trip, view, offer, url, images, organizer) for view, offer in zip(departures, offers)]
        return [*events, crumbs]
    tour = {
        "@context": SCHEMA,
        "@type": "TouristTrip",
        "name": trip.title,
        "description": trip.summary,
        "url": url,
        "provider": organizer,
        "itinerary": {
            "@type": "ItemList",
            "numberOfItems": len(trip.itinerary),
            "itemListElement": [
                {"@type": "ListItem", "position": n, "name": day.get("title", "")}
                for n, day in enumerate(trip.itinerary, start=1)
            ],
        },
        "offers": offers,
    }
    if images:
        tour["image"] = images
    return [tour, crumbs]


def _offer(view, trip_url: str, base_url: str) -> dict:
    """A departure's offer; only one that sells seats links to its booking form."""
    departure = view.departure
    return {
        "@type": "Offer",
        "name": f"{departure.starts_on.isoformat()} to {departure.ends_on.isoformat()}",
        "price": amount_text(view.price_paise),  # with the trip's GST, as the page shows it
        "priceCurrency": "INR",
        "availability": f"{SCHEMA}/{_AVAILABILITY[view.state]}",
        "availabilityStarts": departure.starts_on.isoformat(),
        "availabilityEnds": departure.ends_on.isoformat(),
        "url": f"{base_url}/departures/{departure.id}/book" if view.bookable else trip_url,
    }


def _event(trip: Trip, view, offer: dict, url: str, images: list[str], organizer: dict) -> dict:
    departure = view.departure
    event = {
        "@context": SCHEMA,
        "@type": "Event",
        "name": trip.title,
        "description": trip.summary,
        "url": url,
        "startDate": departure.starts_on.isoformat(),
        "endDate": departure.ends_on.isoformat(),
        "eventStatus": f"{SCHEMA}/EventScheduled",
        "eventAttendanceMode": f"{SCHEMA}/OfflineEventAttendanceMode",
        "location": {
            "@type": "Place",
            "name": trip.destination.name,
            "address": {"@type": "PostalAddress", "addressRegion": trip.destination.region, "addressCountry": "IN"},
        },
        "organizer": organizer,
        "offers": offer,
    }
    if images:
        event["image"] = images
    return event


def destination_data(destination: Destination, base_url: str) -> list[dict]:
    """JSON-LD for a destination page: a TouristDestination and its breadcrumbs."""
    path = f"/destinations/{destination.slug}"
    place = {
        "@context": SCHEMA,
        "@type": "TouristDestination",
        "name": destination.name,
        "description": destination.description[:300],
        "url": base_url + path,
        "address": {"@type": "PostalAddress", "addressRegion": destination.region, "addressCountry": "IN"},
    }
    if destination.images:
        place["image"] = [absolute(base_url, media.src(image, 1200)) for image in destination.images]
    return [place, breadcrumbs(base_url, [("Trips", "/trips"), (destination.name, path)])]
