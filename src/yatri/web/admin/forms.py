"""The operator's forms and filter queries, read into the admin services' typed values.

Text that cannot be read as its type (a date that is no date, a number that is no
number) gets its message here; a value that breaks a service's rule gets the service's.
A form reports every bad field at once: when some field cannot be read, the service's
rules still judge the fields that could (`check_new`), and both sets of messages show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from yatri.errors import NotFound, ValidationError
from yatri.models import BookingStatus, Role, Trip
from yatri.parsing import MAX_ID, FieldError, number_or, optional_day, optional_number, single_line
from yatri.services import admin_departures
from yatri.services.admin_catalogue import records
from yatri.services.admin_catalogue.forms import Entity
from yatri.services.admin_catalogue.itinerary import Day, DayChange
from yatri.services.admin_audit import AuditFilters
from yatri.services.admin_bookings import BookingFilters
from yatri.services.catalogue import MAX_PRICE_RUPEES
from yatri.services.money import parse_rupees


MAX_PAGE = 99_999


def page_number(raw: str | None) -> int:
    """A page number from a query string; anything that is not a small positive number is page 1."""
    return number_or(raw, 1, 1, MAX_PAGE)


def _read(errors: dict[str, str], key: str, parse: Callable[..., Any], raw: object, *args: Any) -> Any:
    """One value parsed from form or query text, or None with its message in `errors`."""
    try:
        return parse(raw, *args)
    except FieldError as exc:
        errors[key] = str(exc)
        return None


def _text(form: Mapping[str, Any], key: str) -> str:
    return str(form.get(key, ""))


# ---------------------------------------------------------------- trips and destinations


def seen(form: Mapping[str, Any], name: str) -> records.Seen:
    """The version and the field's `base` the form was drawn with."""
    return records.Seen(number_or(form.get("version", ""), 0), {name: _text(form, "base")})


def field_values(entity: Entity, name: str, raw: str) -> records.Values:
    """One field typed into its edit form."""
    spec = entity.field(name)
    try:
        return entity.values(**{spec.column: spec.parse(raw)})
    except FieldError as exc:
        raise ValidationError({name: str(exc)}) from None


async def new_record(entity: Entity, form: Mapping[str, Any]) -> records.Values:
    """The create form's fields (an empty web address is made from the title or name)."""
    errors: dict[str, str] = {}
    typed = {}
    for name in entity.required:
        spec, raw = entity.field(name), _text(form, name)
        if name != "slug" or raw.strip():
            typed[spec.column] = _read(errors, name, spec.parse, raw)
    values = entity.values(**typed)
    if errors:
        try:
            await records.checked(entity, values, new=True)
        except ValidationError as exc:
            errors = {**exc.errors, **errors}
        raise ValidationError(errors)
    return values


def itinerary_change(form: Mapping[str, Any]) -> tuple[DayChange, int, Day]:
    """What the itinerary form asks: the change, the day's number and the day as typed."""
    try:
        change = DayChange(_text(form, "op"))
    except ValueError:
        raise NotFound("Unknown itinerary action.") from None
    return change, number_or(_text(form, "day"), 0), Day(_text(form, "title"), _text(form, "details"))


# ---------------------------------------------------------------- departures


def _rupees(raw: str) -> int | None:
    return parse_rupees(raw, MAX_PRICE_RUPEES) if raw.strip() else None


def new_departure(form: Mapping[str, Any], trip: Trip, today: date) -> admin_departures.NewDeparture:
    """The add form: start date, end date (empty: start + the trip's days), capacity, price in rupees."""
    errors: dict[str, str] = {}
    new = admin_departures.NewDeparture(
        starts_on=_read(errors, "starts_on", optional_day, _text(form, "starts_on"), "start date"),
        ends_on=_read(errors, "ends_on", optional_day, _text(form, "ends_on"), "end date"),
        capacity=_read(errors, "capacity", optional_number, _text(form, "capacity"), 0, MAX_ID, admin_departures.CAPACITY_MESSAGE),
        price_paise=_read(errors, "price", _rupees, _text(form, "price")),
    )  # fmt: skip
    if "price" in errors:
        errors["price"] += f" {admin_departures.PRICE_HINT}"
    if errors:
        raise ValidationError({**admin_departures.check_new(new, trip, today)[1], **errors})
    return new


def capacity(form: Mapping[str, Any]) -> int | None:
    errors: dict[str, str] = {}
    seats = _read(errors, "capacity", optional_number, _text(form, "capacity"), 0, MAX_ID, admin_departures.CAPACITY_MESSAGE)
    if errors:
        raise ValidationError(errors)
    return seats


# ---------------------------------------------------------------- users


def role(form: Mapping[str, Any]) -> Role:
    try:
        return Role(_text(form, "role"))
    except ValueError:
        raise ValidationError({"role": "Choose admin or traveller."}) from None


# ---------------------------------------------------------------- filters of the lists


def _dates(params: Mapping[str, str], errors: dict[str, str]) -> tuple[date | None, date | None]:
    date_from = _read(errors, "from", optional_day, params.get("from", ""), "first day")
    date_to = _read(errors, "to", optional_day, params.get("to", ""), "last day")
    if date_from and date_to and date_to < date_from:
        errors["to"], date_to = "The last day cannot be before the first day.", None
    return date_from, date_to


def booking_filters(params: Mapping[str, str]) -> tuple[BookingFilters, dict[str, str]]:
    """Filters from the query string; a bad one is left out and explained."""
    errors: dict[str, str] = {}
    trip, departure = (_read(errors, key, optional_number, params.get(key, ""), 1, MAX_ID, "Pick one from the list.") for key in ("trip", "departure"))
    status = params.get("status", "").strip()
    if status and status not in {s.value for s in BookingStatus}:
        errors["status"], status = "Pick a status from the list.", ""
    date_from, date_to = _dates(params, errors)
    return BookingFilters(trip, departure, status, date_from, date_to), errors


def _short(text: str, limit: int = 64) -> str:
    return single_line(text)[:limit]


def audit_filters(params: Mapping[str, str]) -> tuple[AuditFilters, dict[str, str]]:
    """Filters from the query string; a bad one is left out and explained."""
    errors: dict[str, str] = {}
    actor = _read(errors, "actor", optional_number, params.get("actor", ""), 1, MAX_ID, "Pick someone from the list.")
    date_from, date_to = _dates(params, errors)
    filters = AuditFilters(
        entity=_short(params.get("entity", ""), 32), entity_id=_short(params.get("id", "")), action=_short(params.get("action", ""), 48),
        actor=actor, date_from=date_from, date_to=date_to,
    )  # fmt: skip
    return filters, errors
