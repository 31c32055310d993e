"""The operator's API: trips (create, edit fields, publish) and departures (add, change
capacity, close sales, cancel), for admin tokens only (403 for travellers).

Every rule (and every message) is the one of services/admin_catalogue/forms.py and
services/admin_departures.py; api/admin_values.py turns the validated trip fields into
the services' typed values.
"""

from __future__ import annotations

from aiohttp import web

from yatri.api import models as m
from yatri.api.admin_values import (
    admin_field,
    api_names,
    needed_by_new_trip,
    set_fields,
    trip_context,
    trip_values,
)
from yatri.api.catalogue import trip_page_fields
from yatri.api.common import api_user, etag, if_match_version, now, today
from yatri.api.contract import Reply
from yatri.errors import PreconditionFailed, ValidationError
from yatri.keys import NotifierKey, SettingsKey
from yatri.parsing import record_id
from yatri.services import admin_departures as departures
from yatri.services.admin_catalogue import records as catalogue
from yatri.services.admin_catalogue.forms import TRIPS, base
from yatri.services.admin_catalogue.records import Seen


def _id(request: web.Request, what: str) -> int:
    return record_id(request.match_info["id"], what)


def _admin_trip(trip) -> m.AdminTrip:
    return m.AdminTrip(
        **trip_page_fields(trip), id=trip.id, featured=trip.featured, is_published=trip.is_published, version=trip.version
    )


def _trip(trip, **headers: str) -> Reply:
    return Reply(_admin_trip(trip), {**etag(trip.version), **headers})


def _departure(row: departures.DepartureRow) -> m.AdminDeparture:
    d = row.departure
    return m.AdminDeparture(
        id=d.id, trip_id=d.trip_id, starts_on=d.starts_on, ends_on=d.ends_on, capacity=d.capacity,
        price_paise=d.price_paise, unit_price_paise=d.unit_price_paise, seats_taken=row.taken, seats_left=row.left,
        sales_closed=d.sales_closed, cancelled_at=d.cancelled_at, state=row.state,
    )  # fmt: skip


# ---------------------------------------------------------------- trips


async def trips(request: web.Request, query: m.AdminTripQuery) -> m.AdminTripList:
    status = query.status or "all"
    if status not in catalogue.STATUSES:
        raise ValidationError({"status": "Use all, published or draft."})
    found = await catalogue.list_trips(query.q, status)
    return m.AdminTripList(items=[_admin_trip(t) for t in found])


async def create_trip(request: web.Request, body: m.TripInput) -> Reply:
    context, actor = await trip_context(request), api_user(request)
    required = [name for name in set_fields(body) if needed_by_new_trip(name)]
    extra = [name for name in set_fields(body) if not needed_by_new_trip(name)]
    try:
        values = catalogue.with_site_rate(TRIPS, trip_values(body, required, context), request.app[SettingsKey].gst_percent)
        trip = await catalogue.create(TRIPS, values, actor)
        if extra:
            trip = await catalogue.update_fields(TRIPS, trip.id, trip_values(body, extra, context), None, actor)
    except ValidationError as exc:
        raise api_names(exc) from None
    return _trip(trip, Location=f"/api/v1/admin/trips/{trip.id}")


async def trip(request: web.Request) -> Reply:
    return _trip(await catalogue.get(TRIPS, _id(request, "trip")))


async def update_trip(request: web.Request, body: m.TripChange) -> Reply:
    """Change fields with If-Match, all in one transaction or none. As on the admin page, a
    change to another field made meanwhile is kept, one to the same field is a 409."""
    trip_id = _id(request, "trip")
    found = await catalogue.get(TRIPS, trip_id)
    expected = if_match_version(request, found.version)
    if expected is not None and expected != found.version:
        by = found.updated_by.name if found.updated_by else "Someone"
        raise PreconditionFailed(f"{by} changed this trip since version {expected} (it is now version {found.version}). Read it again.")
    names = set_fields(body)
    bases = {admin_field(name).name: base(TRIPS, found, admin_field(name).name) for name in names}
    seen = None if expected is None else Seen(found.version, bases)
    try:
        await catalogue.update_fields(TRIPS, trip_id, trip_values(body, names, await trip_context(request)), seen, api_user(request))
    except ValidationError as exc:
        raise api_names(exc) from None
    return _trip(await catalogue.get(TRIPS, trip_id))


def _publisher(published: bool):
    async def handler(request: web.Request) -> Reply:
        return _trip(await catalogue.set_published(_id(request, "trip"), published, api_user(request)))

    handler.__name__ = "publish_trip" if published else "unpublish_trip"
    return handler


publish_trip = _publisher(True)
unpublish_trip = _publisher(False)


# ---------------------------------------------------------------- departures


async def trip_departures(request: web.Request) -> m.AdminDepartureList:
    found = await departures.get_trip(_id(request, "trip"))
    upcoming, past = await departures.trip_departures(found, today(request), now(request))
    return m.AdminDepartureList(upcoming=[_departure(r) for r in upcoming], past=[_departure(r) for r in past])


async def add_departure(request: web.Request, body: m.DepartureInput) -> Reply:
    found = await departures.get_trip(_id(request, "trip"))
    try:
        departure = await departures.add_departure(found, departures.NewDeparture(**body.model_dump()), api_user(request), today(request))
    except ValidationError as exc:
        raise api_names(exc) from None
    row = await departures.row(departure.id, now(request))
    return Reply(_departure(row), {"Location": f"/api/v1/admin/departures/{departure.id}"})


async def departure(request: web.Request) -> m.AdminDeparture:
    return _departure(await departures.row(_id(request, "departure"), now(request)))


async def update_departure(request: web.Request, body: m.DepartureChange) -> m.AdminDeparture:
    departure_id = _id(request, "departure")
    await departures.get_departure(departure_id)
    change = departures.DepartureChange(body.capacity, body.sales_closed)
    await departures.change_departure(departure_id, change, api_user(request), now(request), today(request), request.app[NotifierKey])
    return _departure(await departures.row(departure_id, now(request)))


async def cancel_departure(request: web.Request, body: m.DepartureCancel) -> m.DepartureCancelled:
    departure_id = _id(request, "departure")
    await departures.get_departure(departure_id)
    cancelled = await departures.cancel_departure(
        departure_id, api_user(request), now(request), today(request), body.reason, notifier=request.app[NotifierKey]
    )
    row = await departures.row(departure_id, now(request))
    return m.DepartureCancelled(departure=_departure(row), cancelled_bookings=[b.reference for b in cancelled])
