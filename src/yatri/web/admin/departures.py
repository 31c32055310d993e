"""Departures: /admin/trips/{id}/departures (one trip's runs, and the add form),
/admin/departures (every run that has not ended), /admin/departures/{id} (one run).

Each row carries its own forms (capacity, close or reopen sales). With HTMX a form swaps
its row, or the add form its section, refusals shown in place; without JavaScript a form
posts and comes back with a redirect, or shows the page again with the message next to
the field and what was typed kept. Cancelling a run has a confirmation page.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from yatri.errors import Conflict, ValidationError
from yatri.keys import NotifierKey
from yatri.parsing import number_or
from yatri.services import admin_departures as service
from yatri.services import waitlist
from yatri.web.admin import forms
from yatri.web.admin.common import admin as current_admin
from yatri.web.admin.common import now, today
from yatri.web.auth import flash, safe_next
from yatri.web.forms import read_form
from yatri.web.render import is_htmx, render


def _page_url(departure_id: int) -> str:
    return f"/admin/departures/{departure_id}"


async def trip_departures(request: web.Request, *, status: int = 200, errors: dict | None = None, typed: dict | None = None) -> web.Response:
    trip = await service.get_trip(request.match_info["id"])
    upcoming, past = await service.trip_departures(trip, today(request), now(request))
    context = {
        "trip": trip, "upcoming": upcoming, "past": past, "errors": errors or {}, "typed": typed or {},
        "back": f"/admin/trips/{trip.id}/departures", "row_errors": {}, "row_typed": {},
    }  # fmt: skip
    return render(request, "admin/trip_departures.html", context, fragment="fragments/admin/departure_add.html", status=status)


async def add(request: web.Request) -> web.Response:
    form = await read_form(request)
    trip = await service.get_trip(request.match_info["id"])
    typed = {k: str(form.get(k, "")) for k in ("starts_on", "ends_on", "capacity", "price")}
    try:
        new = forms.new_departure(form, trip, today(request))
        departure = await service.add_departure(trip, new, current_admin(request), today(request))
    except ValidationError as exc:
        return await trip_departures(request, status=422, errors=exc.errors, typed=typed)
    if is_htmx(request):
        return await trip_departures(request)
    await flash(request, f"Added the departure of {departure.starts_on:%d %b %Y}.")
    raise web.HTTPSeeOther(f"/admin/trips/{trip.id}/departures")


async def all_upcoming(request: web.Request) -> web.Response:
    page = await service.upcoming_departures(today(request), now(request), forms.page_number(request.query.get("page")))
    context = {"page": page, "back": request.path_qs, "row_errors": {}, "row_typed": {}, "pager_params": {}}
    return render(request, "admin/departures.html", context)


async def detail(request: web.Request, *, status: int = 200, errors: dict | None = None, typed: dict | None = None) -> web.Response:
    row = await service.row(request.match_info["id"], now(request))
    bookings = await row.departure.bookings.all().order_by("id")
    context = {
        "row": row, "bookings": bookings, "back": _page_url(row.departure.id), "line": await waitlist.line(row.departure.id),
        "now": now(request), "line_labels": waitlist.STATUS_LABELS,
        "row_errors": {row.departure.id: errors or {}}, "row_typed": {row.departure.id: typed or {}},
    }  # fmt: skip
    return render(request, "admin/departure.html", context, status=status)


def _row_change(change):
    """A row form: HTMX gets the row (refusal inside it); a plain post a redirect, or
    the departure's page with the message next to the field."""

    async def handler(request: web.Request) -> web.Response:
        form = await read_form(request)
        departure = await service.get_departure(request.match_info["id"])
        back = safe_next(str(form.get("next", "")), _page_url(departure.id))
        try:
            message = await change(request, departure.id, form)
        except (ValidationError, Conflict) as exc:
            errors = exc.errors if isinstance(exc, ValidationError) else {"row": exc.detail}
            typed = {"capacity": str(form.get("capacity", ""))}
            if is_htmx(request):
                return await _row(request, departure.id, back, errors, typed, status=exc.status)
            return await detail(request, status=exc.status, errors=errors, typed=typed)
        if is_htmx(request):
            return await _row(request, departure.id, back)
        await flash(request, message)
        raise web.HTTPSeeOther(back)

    return handler


async def _row(request: web.Request, departure_id: int, back: str, errors: dict | None = None, typed: dict | None = None, status: int = 200) -> web.Response:
    row = await service.row(departure_id, now(request))
    context = {"row": row, "back": back, "row_errors": {departure_id: errors or {}}, "row_typed": {departure_id: typed or {}}}
    return render(request, "fragments/admin/departure_row.html", context, status=status)


async def _capacity(request: web.Request, departure_id: int, form) -> str:
    departure = await service.set_capacity(departure_id, forms.capacity(form), current_admin(request), now(request), today(request), request.app[NotifierKey])
    return f"Capacity is now {departure.capacity} seats."


async def _sales(request: web.Request, departure_id: int, form) -> str:
    closed = form.get("closed") == "1"
    await service.change_departure(
        departure_id, service.DepartureChange(sales_closed=closed), current_admin(request), now(request), today(request), request.app[NotifierKey]
    )
    return "Sales closed: travellers can no longer book it." if closed else "Sales reopened."


async def _offer_hours(request: web.Request, departure_id: int, form) -> str:
    hours = number_or(str(form.get("offer_hours", "")), 0)  # unreadable: 0, refused with the rule's message
    departure = await service.change_departure(
        departure_id, service.DepartureChange(offer_hours=hours), current_admin(request), now(request), today(request), request.app[NotifierKey]
    )
    return f"Waiting-list offers now hold their seats for {departure.offer_hours} hours."


async def cancel_page(request: web.Request, *, status: int = 200, error: str = "") -> web.Response:
    row = await service.row(request.match_info["id"], now(request))
    bookings = await service.bookings_to_cancel(row.departure.id)
    context = {"row": row, "bookings": bookings, "error": error}
    return render(request, "admin/departure_cancel.html", context, status=status)


async def cancel(request: web.Request) -> web.Response:
    form = await read_form(request)
    departure = await service.get_departure(request.match_info["id"])
    try:
        cancelled = await service.cancel_departure(
            departure.id, current_admin(request), now(request), today(request), str(form.get("reason", "")),
            notifier=request.app[NotifierKey],
        )
    except Conflict as exc:
        return await cancel_page(request, status=exc.status, error=exc.detail)
    n = len(cancelled)
    await flash(request, f"Departure cancelled. {n} booking{'' if n == 1 else 's'} cancelled with a full refund; the travellers were emailed.")
    raise web.HTTPSeeOther(_page_url(departure.id))


def routes() -> list[tuple[str, str, Any, str]]:
    return [
        ("GET", "/admin/departures", all_upcoming, "admin_departures"),
        ("GET", "/admin/trips/{id:[0-9]+}/departures", trip_departures, "admin_trip_departures"),
        ("POST", "/admin/trips/{id:[0-9]+}/departures", add, "admin_trip_departure_add"),
        ("GET", "/admin/departures/{id:[0-9]+}", detail, "admin_departure"),
        ("POST", "/admin/departures/{id:[0-9]+}/capacity", _row_change(_capacity), "admin_departure_capacity"),
        ("POST", "/admin/departures/{id:[0-9]+}/sales", _row_change(_sales), "admin_departure_sales"),
        ("POST", "/admin/departures/{id:[0-9]+}/offer-hours", _row_change(_offer_hours), "admin_departure_offer_hours"),
        ("GET", "/admin/departures/{id:[0-9]+}/cancel", cancel_page, "admin_departure_cancel_page"),
        ("POST", "/admin/departures/{id:[0-9]+}/cancel", cancel, "admin_departure_cancel"),
    ]
