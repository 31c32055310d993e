"""Trips and destinations: the same catalogue service and filters as /trips."""

from __future__ import annotations

from aiohttp import web

from yatri.api.common import now, today
from yatri.errors import ValidationError
from yatri.keys import CatalogueCacheKey
from yatri.services import catalogue
from yatri.services.catalogue_query import parse_filters


def destination_json(destination) -> dict:
    return {
        "slug": destination.slug,
        "name": destination.name,
        "region": destination.region,
        "description": destination.description,
    }


def trip_json(trip, next_departure=None) -> dict:
    return {
        "slug": trip.slug,
        "title": trip.title,
        "kind": str(trip.kind),
        "destination": trip.destination.slug,
        "days": trip.days,
        "difficulty": str(trip.difficulty),
        "price_paise": trip.price_paise,
        "summary": trip.summary,
        "next_departure": next_departure.isoformat() if next_departure else None,
    }


def departure_json(view) -> dict:
    departure = view.departure
    return {
        "id": departure.id,
        "starts_on": departure.starts_on.isoformat(),
        "ends_on": departure.ends_on.isoformat(),
        "price_paise": departure.unit_price_paise,
        "capacity": departure.capacity,
        "seats_left": view.seats_left,
        "state": view.state,
    }


async def trips(request: web.Request) -> web.Response:
    cache = request.app[CatalogueCacheKey]
    destinations = await catalogue.destination_choices(cache)
    filters, errors = parse_filters(request.query, [d.slug for d in destinations])
    if errors:  # the HTML page drops a bad filter and says so; an API client gets told
        raise ValidationError(errors)
    result = await catalogue.search_trips(filters, today(request), cache)
    return web.json_response(
        {
            "items": [trip_json(card.trip, card.next_departure) for card in result.cards],
            "total": result.total,
            "page": result.page,
            "pages": result.pages,
        }
    )


async def trip(request: web.Request) -> web.Response:
    page = await catalogue.trip_page(request.match_info["slug"], today(request), now(request), request.app[CatalogueCacheKey])
    trip = page.trip
    body = {
        **trip_json(trip),
        "description": trip.description,
        "itinerary": trip.itinerary,
        "inclusions": trip.inclusions,
        "exclusions": trip.exclusions,
        "cancellation_policy": trip.cancellation_policy,
        "max_per_booking": trip.max_per_booking,
        "departures": [departure_json(view) for view in page.departures],
    }
    body["next_departure"] = body["departures"][0]["starts_on"] if body["departures"] else None
    return web.json_response(body)


async def destinations(request: web.Request) -> web.Response:
    items = await catalogue.destination_choices(request.app[CatalogueCacheKey])
    return web.json_response({"items": [destination_json(d) for d in items]})


async def destination(request: web.Request) -> web.Response:
    page = await catalogue.destination_page(
        request.match_info["slug"], today(request), request.app[CatalogueCacheKey]
    )
    return web.json_response(
        {
            **destination_json(page.destination),
            "trips": [trip_json(card.trip, card.next_departure) for card in page.cards],
        }
    )
