"""Trips and destinations: the same catalogue service and filters as /trips, on the operator's date."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from yatri.api import models as m
from yatri.api.common import now, today
from yatri.errors import ValidationError
from yatri.keys import CatalogueCacheKey
from yatri.services import catalogue
from yatri.services.catalogue_query import parse_filters
from yatri.services.pricing import trip_price


def destination_fields(destination) -> dict:
    return {"slug": destination.slug, "name": destination.name, "region": destination.region, "description": destination.description}


def trip_fields(trip) -> dict:
    """What every view of a trip shows, by the API's names."""
    return {
        "slug": trip.slug, "title": trip.title, "kind": trip.kind, "destination": trip.destination.slug, "days": trip.days,
        "difficulty": trip.difficulty, "price_paise": trip.price_paise, "gst_percent": trip.gst_percent,
        "price_with_gst_paise": trip_price(trip), "summary": trip.summary,
    }  # fmt: skip


def trip_page_fields(trip) -> dict:
    """A trip's card and what its own page adds."""
    return {
        **trip_fields(trip), "description": trip.description, "itinerary": trip.itinerary, "inclusions": trip.inclusions,
        "exclusions": trip.exclusions, "cancellation_policy": trip.cancellation_policy,
        "group_discounts": trip.group_discounts, "max_per_booking": trip.max_per_booking,
    }  # fmt: skip


def trip_summary(trip, next_departure: date | None) -> m.TripSummary:
    return m.TripSummary(**trip_fields(trip), next_departure=next_departure)


def departure(view: catalogue.DepartureView) -> m.Departure:
    d = view.departure
    return m.Departure(
        id=d.id, starts_on=d.starts_on, ends_on=d.ends_on, price_paise=d.unit_price_paise,
        price_with_gst_paise=view.price_paise, capacity=d.capacity,
        seats_left=view.seats_left, state=view.state,
    )  # fmt: skip


async def trips(request: web.Request, query: m.TripQuery) -> m.TripList:
    cache = request.app[CatalogueCacheKey]
    params = query.model_dump(by_alias=True)
    destinations = await catalogue.destination_choices(params.get("destination") or "", cache)
    filters, errors = parse_filters(params, [d.slug for d in destinations])
    if errors:  # the HTML page drops a bad filter and says so; an API client gets told
        raise ValidationError(errors)
    result = await catalogue.search_trips(filters, today(request), cache)
    items = [trip_summary(card.trip, card.next_departure) for card in result.cards]
    return m.TripList(items=items, total=result.total, page=result.page, pages=result.pages)


async def trip(request: web.Request) -> m.TripDetail:
    page = await catalogue.trip_page(request.match_info["slug"], today(request), now(request), request.app[CatalogueCacheKey])
    departures = [departure(view) for view in page.departures]
    first = departures[0].starts_on if departures else None
    return m.TripDetail(**trip_page_fields(page.trip), next_departure=first, departures=departures)


async def destinations(request: web.Request) -> m.DestinationList:
    items = await catalogue.all_destinations(request.app[CatalogueCacheKey])
    return m.DestinationList(items=[destination_fields(d) for d in items])


async def destination(request: web.Request) -> m.DestinationDetail:
    page = await catalogue.destination_page(request.match_info["slug"], today(request), request.app[CatalogueCacheKey])
    trips = [trip_summary(card.trip, card.next_departure) for card in page.cards]
    return m.DestinationDetail(**destination_fields(page.destination), trips=trips)
