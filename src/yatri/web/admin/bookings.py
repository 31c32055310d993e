"""/admin/bookings: find bookings, read one, confirm by hand or cancel with a refund;
/admin/departures/{id}/manifest.csv: the travellers of a departure for the trip leader."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from yatri.errors import Conflict, ValidationError
from yatri.keys import NotifierKey
from yatri.models import BookingStatus
from yatri.parsing import single_line
from yatri.services import admin_bookings as service
from yatri.services.booking import CANCELLABLE, cancel_booking, confirm_booking
from yatri.services.state import STATUS_LABELS, TRANSITIONS
from yatri.web.admin import forms
from yatri.web.admin.common import admin as current_admin
from yatri.web.admin.common import now, today, zone
from yatri.web.auth import flash
from yatri.web.forms import read_form
from yatri.web.render import render

async def booking_list(request: web.Request) -> web.Response:
    filters, errors = forms.booking_filters(request.query)
    page = await service.search(filters, zone(request), forms.page_number(request.query.get("page")))
    trips, departures = await service.filter_choices(filters.trip)
    context = {
        "page": page, "filters": filters, "errors": errors, "trips": trips, "departures": departures,
        "statuses": STATUS_LABELS, "pager_params": filters.query_params(),
        "typed": {key: request.query.get(key, "") for key in ("from", "to")},
    }  # fmt: skip
    return render(request, "admin/bookings.html", context)


async def booking_page(request: web.Request, *, status: int = 200, error: str = "", form: dict | None = None) -> web.Response:
    found = await service.detail(request.match_info["ref"], today(request))
    context = {
        "d": found, "b": found.booking, "error": error, "form": form or {},
        "can_confirm": BookingStatus.CONFIRMED in TRANSITIONS[BookingStatus(found.booking.status)],
        "can_cancel": found.booking.status in CANCELLABLE,
    }  # fmt: skip
    return render(request, "admin/booking.html", context, status=status)


async def confirm(request: web.Request) -> web.Response:
    form = await read_form(request)
    note = single_line(form.get("note"))[:300]
    reference = (await service.get_booking(request.match_info["ref"])).reference
    try:
        await confirm_booking(reference, actor=current_admin(request), now=now(request), note=note, notifier=request.app[NotifierKey])
    except (Conflict, ValidationError) as exc:
        return await booking_page(request, status=exc.status, error=exc.detail, form={"note": note})
    await flash(request, f"{reference} is confirmed; the traveller was emailed.")
    raise web.HTTPSeeOther(f"/admin/bookings/{reference}")


async def cancel(request: web.Request) -> web.Response:
    form = await read_form(request)
    full_refund = form.get("refund") == "full"
    reason = single_line(form.get("reason"))[:200]
    reference = (await service.get_booking(request.match_info["ref"])).reference
    try:
        await cancel_booking(
            reference, actor=current_admin(request), today=today(request), now=now(request), full_refund=full_refund,
            reason=reason or ("Cancelled by the operator with a full refund" if full_refund else ""),
            notifier=request.app[NotifierKey],
        )  # fmt: skip
    except (Conflict, ValidationError) as exc:
        return await booking_page(request, status=exc.status, error=exc.detail, form={"reason": reason, "refund": "full" if full_refund else "policy"})
    await flash(request, f"{reference} is cancelled; the traveller was emailed.")
    raise web.HTTPSeeOther(f"/admin/bookings/{reference}")


async def manifest(request: web.Request) -> web.Response:
    departure, text = await service.manifest(request.match_info["id"], now(request))
    filename = f"manifest-{departure.trip.slug}-{departure.starts_on.isoformat()}.csv"
    return web.Response(
        # The byte order mark makes spreadsheet programs read the UTF-8 names correctly.
        body=("\ufeff" + text).encode(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


def routes() -> list[tuple[str, str, Any, str]]:
    return [
        ("GET", "/admin/bookings", booking_list, "admin_bookings"),
        ("GET", "/admin/bookings/{ref}", booking_page, "admin_booking"),
        ("POST", "/admin/bookings/{ref}/confirm", confirm, "admin_booking_confirm"),
        ("POST", "/admin/bookings/{ref}/cancel", cancel, "admin_booking_cancel"),
        ("GET", "/admin/departures/{id:[0-9]+}/manifest.csv", manifest, "admin_departure_manifest"),
    ]
