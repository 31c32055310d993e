"""The traveller's booking pages: choose travellers, enter their details, review, hold
seats; my bookings; one booking with its timeline; edit travellers; cancel.

The flow keeps no state on the server until Confirm: each step posts everything typed
so far, so a failed step comes back with every value, and the review page carries an
idempotency key so a double tap on Confirm makes one booking.
"""

from __future__ import annotations

import secrets

from aiohttp import web
from aiohttp_session import get_session

from yatri.errors import ValidationError
from yatri.keys import NotifierKey, SettingsKey
from yatri.models import Traveller
from yatri.parsing import number_or, record_id
from yatri.services import booking as service
from yatri.services.pricing import departure_breakdown
from yatri.services.seats import SeatsUnavailable, seats_left
from yatri.services.state import STATUS_LABELS
from yatri.services.travellers import FIELDS, GENDERS, saved_details, validate_travellers
from yatri.services.views import booking_view
from yatri.services.waitlist import my_places
from yatri.services.waitlist_offers import live_offer
from yatri.web import clock
from yatri.web.auth import current_user, flash, require_login
from yatri.web.clients import costly
from yatri.web.forms import kept_values, read_form
from yatri.web.render import render, wants_fragment

# What the next booking's form takes from the lead traveller of the last one.
LEAD_REMEMBERED = ("full_name", "age", "phone", "email", "emergency_contact_name", "emergency_contact_phone")


def _count(raw: object) -> int:
    """A number of travellers as typed; 0 (refused with the count's message) when it is not one."""
    return number_or(raw, 0, 0, service.MAX_SEATS)


def _departure_id(request: web.Request) -> int:
    return record_id(request.match_info["id"], "departure")


async def _departure_context(request: web.Request) -> dict:
    """The departure, and the seats left for this traveller (with those held for them by a
    waiting-list offer)."""
    departure = await service.bookable_departure(_departure_id(request), clock.today(request))
    offer = await live_offer(current_user(request), departure.id, clock.now(request))
    left = await seats_left(departure, clock.now(request)) + (offer.party_size if offer else 0)
    limit = max(min(departure.trip.max_per_booking, left), 0)
    return {"departure": departure, "trip": departure.trip, "seats_left": left, "max_count": limit}


def traveller_forms(form, count: int) -> list[dict[str, str]]:
    """The flat form (`t1-full_name`, `t2-age`, ...) as one dict of typed text per traveller."""
    return [{name: str(form.get(f"t{n}-{name}", "")) for name in FIELDS} for n in range(1, count + 1)]


def _form_context(ctx: dict, count: int, form, errors: dict) -> dict:
    return {**ctx, "count": count, "travellers": traveller_forms(form, count), "errors": errors, "genders": GENDERS}


# ---------------------------------------------------------------- the booking flow


@require_login
async def book_page(request: web.Request) -> web.Response:
    """Step 1 and 2: how many travellers (a plain GET form), and their details."""
    ctx = await _departure_context(request)
    if ctx["max_count"] <= 0:
        raise SeatsUnavailable(0)
    kept = kept_values(request, await get_session(request))  # a Confirm refused as expired
    count = _count(kept.get("count") or request.query.get("count") or "1")
    errors = {}
    if not 1 <= count <= ctx["max_count"]:
        errors["count"] = f"Choose from 1 to {ctx['max_count']} travellers."
        count = min(max(count, 1), ctx["max_count"])
    user = current_user(request)
    prefill = {"t1-full_name": user.name, "t1-email": user.email, "t1-phone": user.phone or ""}
    prefill.update(await _last_lead(user, clock.today(request)), **kept)
    return render(request, "pages/book.html", _form_context(ctx, count, prefill, errors), fragment="fragments/traveller_forms.html")


async def _last_lead(user, today) -> dict[str, str]:
    """The lead traveller of the user's latest booking, to fill in the next one."""
    mine = await service.my_bookings(user, today)
    latest = max([*mine.upcoming, *mine.past, *mine.ended], key=lambda booking: booking.id, default=None)
    lead = latest and await Traveller.filter(booking_id=latest.id, position=1).first()
    if not lead:
        return {}
    details = saved_details(lead)
    return {f"t1-{name}": "" if details[name] is None else str(details[name]) for name in LEAD_REMEMBERED}


@require_login
async def review(request: web.Request) -> web.Response:
    """Step 3: the price breakdown, or the details form again with its messages."""
    ctx = await _departure_context(request)
    form = await read_form(request)
    count = _count(form.get("count"))
    if form.get("action") == "edit":  # "Change details" on the review page
        return _form_page(request, ctx, count, form, {})
    try:
        service.check_count(ctx["departure"], count)
        validate_travellers(traveller_forms(form, count))
        if count > ctx["seats_left"]:
            raise SeatsUnavailable(ctx["seats_left"])
    except (ValidationError, SeatsUnavailable) as exc:
        return _form_page(request, ctx, count, form, exc)
    settings = request.app[SettingsKey]
    context = {
        **_form_context(ctx, count, form, {}),
        "price": departure_breakdown(ctx["departure"], count),
        "hold_minutes": settings.hold_minutes,
        "idempotency_key": form.get("idempotency_key") or secrets.token_urlsafe(24),
    }
    return render(request, "pages/book_review.html", context)


def _form_page(request: web.Request, ctx: dict, count: int, form, problem: Exception | dict) -> web.Response:
    """The details form again with everything typed (every traveller, even when fewer
    seats are left than travellers) and the messages next to their fields."""
    count = min(max(count, 1), ctx["departure"].trip.max_per_booking)
    if isinstance(problem, ValidationError):
        errors, status = problem.errors, 422
    elif isinstance(problem, SeatsUnavailable):
        errors, status = {"count": problem.detail}, 409
    else:
        errors, status = problem, 200
    return render(request, "pages/book.html", _form_context(ctx, count, form, errors), status=status)


@costly
@require_login
async def confirm(request: web.Request) -> web.Response:
    """Confirm: hold the seats. Sold out in the meantime, or a bad field: the form comes
    back with everything typed and the reason."""
    settings = request.app[SettingsKey]
    form = await read_form(request)
    departure_id = _departure_id(request)
    count = _count(form.get("count"))
    try:
        travellers = validate_travellers(traveller_forms(form, count)) if count else []
        booking = await service.hold_seats(
            current_user(request), departure_id, travellers,
            idempotency_key=str(form.get("idempotency_key", ""))[:64] or None,
            now=clock.now(request), today=clock.today(request),
            hold_minutes=settings.hold_minutes,
            notifier=request.app[NotifierKey],
        )  # fmt: skip
    except (ValidationError, SeatsUnavailable) as exc:
        return _form_page(request, await _departure_context(request), count, form, exc)
    await flash(request, f"Your seats are held. Pay within {settings.hold_minutes} minutes to keep them.")
    raise web.HTTPSeeOther(f"/bookings/{booking.reference}")


# ---------------------------------------------------------------- my bookings


@require_login
async def my_bookings(request: web.Request) -> web.Response:
    mine = await service.my_bookings(current_user(request), clock.today(request))
    waiting = await my_places(current_user(request))
    context = {"mine": mine, "labels": STATUS_LABELS, "waiting": waiting, "now": clock.now(request)}
    return render(request, "pages/bookings.html", context, fragment="fragments/my_bookings.html")


async def _booking_context(request: web.Request) -> dict:
    booking = await service.booking_for(current_user(request), request.match_info["ref"])
    now = clock.now(request)
    view = await booking_view(booking, now, clock.today(request))
    return {"view": view, "booking": booking, "trip": booking.departure.trip, "labels": STATUS_LABELS, "now": now}


@require_login
async def booking_page(request: web.Request) -> web.Response:
    """The booking; to htmx (its countdown reached zero, or it changed) only its state and
    payments."""
    ctx = await _booking_context(request)
    if wants_fragment(request):
        return render(request, "pages/booking.html", ctx, fragment="fragments/booking_live.html")
    ctx["timeline"] = await service.timeline(ctx["booking"])
    return render(request, "pages/booking.html", ctx)


# ---------------------------------------------------------------- edit travellers


def _travellers_as_forms(travellers) -> list[dict[str, str]]:
    return [{name: "" if value is None else str(value) for name, value in saved_details(t).items()} for t in travellers]


@require_login
async def travellers_page(request: web.Request) -> web.Response:
    ctx = await _booking_context(request)
    service.check_editable(ctx["booking"], clock.today(request))
    forms = _travellers_as_forms(ctx["view"].travellers)
    return render(request, "pages/booking_travellers.html", {**ctx, "forms": forms, "version": ctx["booking"].version, "errors": {}, "theirs": None, "genders": GENDERS})


@require_login
async def save_travellers(request: web.Request) -> web.Response:
    ctx = await _booking_context(request)
    booking = ctx["booking"]
    form = await read_form(request)
    forms = traveller_forms(form, booking.seats)
    version = number_or(form.get("version"), 0)
    page = {**ctx, "forms": forms, "version": version, "errors": {}, "theirs": None, "genders": GENDERS}
    try:
        travellers = validate_travellers(forms)
        await service.update_travellers(booking.reference, travellers, version=version, actor=current_user(request), today=clock.today(request))
    except ValidationError as exc:
        return render(request, "pages/booking_travellers.html", {**page, "errors": exc.errors}, status=422)
    except service.TravellersChanged as exc:
        page.update(version=exc.version, theirs=_travellers_as_forms(exc.theirs), conflict=exc.detail)
        return render(request, "pages/booking_travellers.html", page, status=409)
    await flash(request, "Traveller details saved.")
    raise web.HTTPSeeOther(f"/bookings/{booking.reference}")


# ---------------------------------------------------------------- cancel


@require_login
async def cancel_page(request: web.Request) -> web.Response:
    """What cancelling now gives back, before the traveller confirms."""
    ctx = await _booking_context(request)
    service.check_cancellable(ctx["booking"], clock.today(request))
    return render(request, "pages/booking_cancel.html", {**ctx, "quote": ctx["view"].refund_quote})


@require_login
async def cancel(request: web.Request) -> web.Response:
    ctx = await _booking_context(request)
    booking = await service.cancel_booking(
        ctx["booking"].reference, actor=current_user(request), today=clock.today(request), now=clock.now(request),
        notifier=request.app[NotifierKey],
    )  # fmt: skip
    await flash(request, "Your booking is cancelled.")
    raise web.HTTPSeeOther(f"/bookings/{booking.reference}")
