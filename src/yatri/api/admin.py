"""The operator's API: trips (create, edit fields, publish) and departures (add, change
capacity, close sales, cancel), for admin tokens only (403 for travellers).

JSON values are checked by the rules (and messages) of services/admin_catalogue/forms.py
and services/admin_departures.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from yatri.api.common import api_user, bearer_admin, if_match_version, json_body, now, today, with_etag
from yatri.errors import PreconditionFailed, ValidationError
from yatri.keys import NotifierKey
from yatri.models import Destination
from yatri.services.admin_catalogue import records as catalogue
from yatri.services import admin_departures as departures
from yatri.parsing import FieldError, day, record_id
from yatri.services.money import rupees_text
from yatri.services.admin_catalogue.forms import TRIP_REQUIRED, TRIPS, TripValues, base
from yatri.services.admin_catalogue.records import Seen
from yatri.services.booking import send_booking_mail
from yatri.services.catalogue import is_slug

# API name -> admin form field, and how a JSON value is typed into that field.
TRIP_FIELDS = {
    "title": ("title", str), "slug": ("slug", str), "kind": ("kind", str), "destination": ("destination", str),
    "days": ("days", int), "difficulty": ("difficulty", str), "price_paise": ("price", int), "summary": ("summary", str),
    "description": ("description", str), "inclusions": ("inclusions", list), "exclusions": ("exclusions", list),
    "cancellation_policy": ("cancellation_policy", list), "max_per_booking": ("max_per_booking", int),
    "featured": ("featured", bool),
}  # fmt: skip
CREATE_REQUIRED = ("title", "kind", "destination", "days", "difficulty", "price_paise", "summary")


def _id(request: web.Request, what: str) -> int:
    return record_id(request.match_info["id"], what)


def trip_json(trip) -> dict:
    return {
        "id": trip.id, "slug": trip.slug, "title": trip.title, "kind": str(trip.kind), "destination": trip.destination.slug,
        "days": trip.days, "difficulty": str(trip.difficulty), "price_paise": trip.price_paise, "summary": trip.summary,
        "description": trip.description, "itinerary": trip.itinerary, "inclusions": trip.inclusions,
        "exclusions": trip.exclusions, "cancellation_policy": trip.cancellation_policy,
        "max_per_booking": trip.max_per_booking, "featured": trip.featured, "is_published": trip.is_published,
        "version": trip.version,
    }  # fmt: skip


def departure_json(row: departures.DepartureRow) -> dict:
    d = row.departure
    return {
        "id": d.id, "trip_id": d.trip_id, "starts_on": d.starts_on.isoformat(), "ends_on": d.ends_on.isoformat(),
        "capacity": d.capacity, "price_paise": d.price_paise, "unit_price_paise": d.unit_price_paise,
        "seats_taken": row.taken, "seats_left": row.left, "sales_closed": d.sales_closed,
        "cancelled_at": d.cancelled_at.isoformat() if d.cancelled_at else None, "state": row.state,
    }  # fmt: skip


# ---------------------------------------------------------------- JSON -> form text


def _as_text(name: str, kind: type, value: Any) -> str:
    if kind is bool:
        if not isinstance(value, bool):
            raise FieldError("This field must be true or false.")
        return "on" if value else ""
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("This field must be a whole number.")
        return rupees_text(value) if name == "price_paise" else str(value)
    if kind is list:
        if not isinstance(value, list):
            raise FieldError("This field must be a list.")
        if name == "cancellation_policy":
            if not all(isinstance(t, dict) and {"min_days", "percent"} <= t.keys() for t in value):
                raise FieldError('Each tier must look like {"min_days": 30, "percent": 90}.')
            return "\n".join(f"{t['min_days']}: {t['percent']}" for t in value)
        if not all(isinstance(line, str) for line in value):
            raise FieldError("Each item must be a string.")
        return "\n".join(value)
    if not isinstance(value, str):
        raise FieldError("This field must be a string.")
    return value


async def _trip_form(body: dict) -> dict[str, str]:
    """The admin form fields for this body, each checked by its rule; every problem at once."""
    form, errors = {}, {}
    for name, value in body.items():
        if name not in TRIP_FIELDS:
            errors[name] = "This field cannot be set here."
            continue
        field, kind = TRIP_FIELDS[name]
        try:
            raw = _as_text(name, kind, value)
            if name == "destination":
                slug = raw.strip().lower()
                found = await Destination.get_or_none(slug=slug) if is_slug(slug, 80) else None
                if found is None:
                    raise FieldError("Use the slug of an existing destination.")
                raw = str(found.id)
            TRIPS.field(field).parse(raw)
        except FieldError as exc:
            errors[name] = str(exc)
            continue
        form[field] = raw
    if errors:
        raise ValidationError(errors)
    return form


def _values(form: dict[str, str], names) -> TripValues:
    return TripValues(**{TRIPS.field(name).column: TRIPS.field(name).parse(form[name]) for name in names if name in form})


def _api_names(exc: ValidationError) -> ValidationError:
    api = {field: name for name, (field, _) in TRIP_FIELDS.items()}
    return ValidationError({api.get(k, k): v for k, v in exc.errors.items()}, exc.detail)


# ---------------------------------------------------------------- trips


@bearer_admin
async def trips(request: web.Request) -> web.Response:
    status = request.query.get("status", "all")
    if status not in catalogue.STATUSES:
        raise ValidationError({"status": "Use all, published or draft."})
    found = await catalogue.list_trips(request.query.get("q", ""), status)
    return web.json_response({"items": [trip_json(t) for t in found]})


@bearer_admin
async def create_trip(request: web.Request) -> web.Response:
    body = await json_body(request)
    missing = {name: "This field is required." for name in CREATE_REQUIRED if name not in body}
    if missing:
        raise ValidationError(missing)
    form = await _trip_form(body)
    actor = api_user(request)
    try:
        trip = await catalogue.create(TRIPS, _values(form, TRIP_REQUIRED), actor)
        extra = set(form) - set(TRIP_REQUIRED)
        if extra:
            trip = await catalogue.update_fields(TRIPS, trip.id, _values(form, extra), None, actor)
    except ValidationError as exc:
        raise _api_names(exc) from None
    response = with_etag(web.json_response(trip_json(trip), status=201), trip.version)
    response.headers["Location"] = f"/api/v1/admin/trips/{trip.id}"
    return response


@bearer_admin
async def trip(request: web.Request) -> web.Response:
    found = await catalogue.get(TRIPS, _id(request, "trip"))
    return with_etag(web.json_response(trip_json(found)), found.version)


@bearer_admin
async def update_trip(request: web.Request) -> web.Response:
    """Change fields with If-Match, all in one transaction or none. As on the admin page, a
    change to another field made meanwhile is kept, one to the same field is a 409."""
    trip_id = _id(request, "trip")
    found = await catalogue.get(TRIPS, trip_id)
    expected = if_match_version(request, found.version)
    form = await _trip_form(await json_body(request))
    if expected is not None and expected != found.version:
        by = found.updated_by.name if found.updated_by else "Someone"
        raise PreconditionFailed(f"{by} changed this trip since version {expected} (it is now version {found.version}). Read it again.")
    seen = None if expected is None else Seen(found.version, {name: base(TRIPS, found, name) for name in form})
    try:
        await catalogue.update_fields(TRIPS, trip_id, _values(form, form), seen, api_user(request))
    except ValidationError as exc:
        raise _api_names(exc) from None
    found = await catalogue.get(TRIPS, trip_id)
    return with_etag(web.json_response(trip_json(found)), found.version)


def _publisher(published: bool):
    @bearer_admin
    async def handler(request: web.Request) -> web.Response:
        found = await catalogue.set_published(_id(request, "trip"), published, api_user(request))
        return with_etag(web.json_response(trip_json(found)), found.version)

    handler.__name__ = "publish_trip" if published else "unpublish_trip"
    return handler


publish_trip = _publisher(True)
unpublish_trip = _publisher(False)


# ---------------------------------------------------------------- departures


@bearer_admin
async def trip_departures(request: web.Request) -> web.Response:
    found = await departures.get_trip(_id(request, "trip"))
    upcoming, past = await departures.trip_departures(found, today(request), now(request))
    return web.json_response({"upcoming": [departure_json(r) for r in upcoming], "past": [departure_json(r) for r in past]})


DEPARTURE_FIELDS = {"starts_on": "start date", "ends_on": "end date", "capacity": int, "price_paise": int}


def _new_departure(body: dict, trip, today) -> departures.NewDeparture:
    """The departure in `body` (dates as YYYY-MM-DD, whole numbers); every problem at once."""
    values, errors = {}, {}
    for name, kind in DEPARTURE_FIELDS.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int if kind is int else str):
            errors[name] = "This field must be a whole number." if kind is int else "This field must be a string."
            continue
        try:
            values[name] = value if kind is int else day(value, kind)
        except FieldError as exc:
            errors[name] = str(exc)
    new = departures.NewDeparture(**values)
    if errors:
        raise ValidationError({**_departure_names(departures.check_new(new, trip, today)[1]), **errors})
    return new


def _departure_names(errors: dict[str, str]) -> dict[str, str]:
    return {"price_paise" if k == "price" else k: v for k, v in errors.items()}


@bearer_admin
async def add_departure(request: web.Request) -> web.Response:
    found = await departures.get_trip(_id(request, "trip"))
    new = _new_departure(await json_body(request), found, today(request))
    try:
        departure = await departures.add_departure(found, new, api_user(request), today(request))
    except ValidationError as exc:
        raise ValidationError(_departure_names(exc.errors), exc.detail) from None
    response = web.json_response(departure_json(await departures.row(departure.id, now(request))), status=201)
    response.headers["Location"] = f"/api/v1/admin/departures/{departure.id}"
    return response


@bearer_admin
async def departure(request: web.Request) -> web.Response:
    return web.json_response(departure_json(await departures.row(_id(request, "departure"), now(request))))


@bearer_admin
async def update_departure(request: web.Request) -> web.Response:
    departure_id = _id(request, "departure")
    await departures.get_departure(departure_id)
    body = await json_body(request)
    errors = {name: "This field cannot be changed here." for name in body if name not in ("capacity", "sales_closed")}
    if "sales_closed" in body and not isinstance(body["sales_closed"], bool):
        errors["sales_closed"] = "This field must be true or false."
    if "capacity" in body and (isinstance(body["capacity"], bool) or not isinstance(body["capacity"], int)):
        errors["capacity"] = "This field must be a whole number."
    if errors:
        raise ValidationError(errors)
    actor = api_user(request)
    if "capacity" in body:
        await departures.set_capacity(departure_id, body["capacity"], actor, now(request))
    if "sales_closed" in body:
        await departures.set_sales_closed(departure_id, body["sales_closed"], actor)
    return web.json_response(departure_json(await departures.row(departure_id, now(request))))


@bearer_admin
async def cancel_departure(request: web.Request) -> web.Response:
    departure_id = _id(request, "departure")
    await departures.get_departure(departure_id)
    body = await json_body(request) if request.body_exists else {}
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise ValidationError({"reason": "This field must be a string."})
    cancelled = await departures.cancel_departure(departure_id, api_user(request), now(request), today(request), reason)
    for booking in cancelled:  # after the commit, as the admin page does
        await send_booking_mail(request.app[NotifierKey], booking, "cancelled")
    return web.json_response(
        {"departure": departure_json(await departures.row(departure_id, now(request))), "cancelled_bookings": [b.reference for b in cancelled]}
    )
