"""The waiting list of a departure, for a signed-in traveller: /departures/{id}/waitlist
shows their place in the line or the seats held for them (with the time they are held
until and a Book link), the join form (party size), and a Leave button."""

from __future__ import annotations

from aiohttp import web

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.keys import NotifierKey
from yatri.models import Departure
from yatri.parsing import number_or, record_id
from yatri.services import waitlist as service
from yatri.services.booking import MAX_SEATS
from yatri.services.seats import seats_left
from yatri.web import clock
from yatri.web.auth import current_user, flash, require_login
from yatri.web.forms import read_form
from yatri.web.render import render


def _departure_id(request: web.Request) -> int:
    return record_id(request.match_info["id"], "departure")


async def _page(request: web.Request, *, errors: dict | None = None, typed: str = "", status: int = 200) -> web.Response:
    departure = await Departure.get_or_none(id=_departure_id(request)).select_related("trip")
    if departure is None or not departure.trip.is_published:
        raise NotFound("We could not find that departure.")
    now = clock.now(request)
    context = {
        "departure": departure, "trip": departure.trip, "now": now, "errors": errors or {}, "typed": typed,
        "place": await service.my_place(current_user(request), departure.id),
        "seats_left": await seats_left(departure, now), "labels": service.STATUS_LABELS,
    }  # fmt: skip
    return render(request, "pages/waitlist.html", context, status=status)


@require_login
async def page(request: web.Request) -> web.Response:
    return await _page(request)


@require_login
async def join(request: web.Request) -> web.Response:
    form = await read_form(request)
    typed = str(form.get("party_size", ""))[:8]
    try:
        await service.join(
            current_user(request), _departure_id(request), number_or(typed, 0, 0, MAX_SEATS),
            now=clock.now(request), today=clock.today(request), notifier=request.app[NotifierKey],
        )  # fmt: skip
    except ValidationError as exc:
        return await _page(request, errors=exc.errors, typed=typed, status=422)
    except Conflict as exc:
        return await _page(request, errors={"party_size": exc.detail}, typed=typed, status=409)
    await flash(request, "You are on the waiting list. We will email you when seats are held for you.")
    raise web.HTTPSeeOther(request.path)


@require_login
async def leave(request: web.Request) -> web.Response:
    await read_form(request)
    departure_id = _departure_id(request)
    await service.leave(current_user(request), departure_id, now=clock.now(request), today=clock.today(request), notifier=request.app[NotifierKey])
    await flash(request, "You have left the waiting list.")
    raise web.HTTPSeeOther(f"/departures/{departure_id}/waitlist")
