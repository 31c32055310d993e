"""The traveller's bookings: hold seats with travellers, list, read, cancel.

The same booking service as the HTML pages; another user's booking is 404.
"""

from __future__ import annotations

import re
from datetime import date

from aiohttp import web

from yatri.api.common import api_user, bearer_required, integer, json_body, now, today
from yatri.errors import Conflict, NotFound, ValidationError
from yatri.keys import NotifierKey, SettingsKey
from yatri.models import Booking, BookingStatus, Payment, Refund, Traveller
from yatri.services import booking as service
from yatri.services.travellers import FIELDS, saved_details, validate_travellers

_TRAVELLER_KEY = re.compile(r"^t([0-9]+)-(\w+)$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def path_reference(request: web.Request) -> str:
    """The booking reference in the path; 404 for anything that cannot be one."""
    reference = service.booking_reference(request.match_info["ref"])
    if reference is None:
        raise NotFound("We could not find that booking.")
    return reference


async def _mine(request: web.Request) -> Booking:
    """The booking named in the path, if it is the caller's (404 otherwise, as for no booking)."""
    return await service.booking_for(api_user(request), path_reference(request))


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def booking_json(booking: Booking) -> dict:
    departure = booking.departure
    return {
        "reference": booking.reference,
        "status": str(booking.status),
        "status_label": service.STATUS_LABELS[BookingStatus(booking.status)],
        "seats": booking.seats,
        "unit_price_paise": booking.unit_price_paise,
        "subtotal_paise": booking.subtotal_paise,
        "gst_paise": booking.gst_paise,
        "total_paise": booking.total_paise,
        "hold_expires_at": _iso(booking.hold_expires_at),
        "created_at": _iso(booking.created_at),
        "cancelled_at": _iso(booking.cancelled_at),
        "trip": {"slug": departure.trip.slug, "title": departure.trip.title},
        "departure": {"id": departure.id, "starts_on": departure.starts_on.isoformat(), "ends_on": departure.ends_on.isoformat()},
    }


async def booking_detail(booking: Booking, on: date) -> dict:
    travellers = await Traveller.filter(booking_id=booking.id).order_by("position")
    payments = await Payment.filter(booking_id=booking.id).order_by("id")
    refunds = await Refund.filter(booking_id=booking.id).order_by("id")
    try:
        service.check_cancellable(booking, on)
        quote = await service.refund_quote(booking, on)
    except Conflict:
        quote = None
    return {
        **booking_json(booking),
        "travellers": [saved_details(t) for t in travellers],
        "payments": [
            {"method": str(p.method), "amount_paise": p.amount_paise, "status": str(p.status), "utr": p.utr,
             "submitted_at": _iso(p.submitted_at), "rejection_reason": p.rejection_reason}
            for p in payments
        ],
        "refunds": [{"amount_paise": r.amount_paise, "status": str(r.status), "reason": r.reason} for r in refunds],
        "refund_quote": None if quote is None else {
            "days_before": quote.days_before, "percent": quote.percent,
            "paid_paise": quote.paid_paise, "amount_paise": quote.amount_paise,
        },
    }  # fmt: skip


def _api_errors(exc: ValidationError) -> ValidationError:
    """The booking form's field names (`t1-age`, `count`) as API paths (`travellers[0].age`)."""
    errors = {}
    for key, message in exc.errors.items():
        match = _TRAVELLER_KEY.match(key)
        name = f"travellers[{int(match[1]) - 1}].{match[2]}" if match else "travellers" if key == "count" else key
        errors[name] = message
    return ValidationError(errors, exc.detail)


def _idempotency_key(request: web.Request) -> str | None:
    """The client's Idempotency-Key (the booking service keeps keys per user)."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not _IDEMPOTENCY_KEY.match(raw):
        raise ValidationError({"Idempotency-Key": "Use 1 to 255 visible ASCII characters, like a UUID."})
    return raw


def _travellers(body: dict) -> list[dict]:
    """The travellers as sent: a list of objects whose fields are strings (the age a whole
    number), never an object or a list that would be stored as its Python repr."""
    raw = body.get("travellers")
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise ValidationError({"travellers": "Send a list of travellers, one object each; the first is the lead traveller."})
    errors = {
        f"travellers[{n}].{name}": "This field must be a whole number." if name == "age" else "This field must be a string."
        for n, traveller in enumerate(raw)
        for name in FIELDS
        if not _plain(name, traveller.get(name))
    }
    if errors:
        raise ValidationError(errors)
    return raw


def _plain(name: str, value: object) -> bool:
    if name == "age":
        return value is None or isinstance(value, int | str) and not isinstance(value, bool)
    return value is None or isinstance(value, str)


@bearer_required
async def create(request: web.Request) -> web.Response:
    user, settings = api_user(request), request.app[SettingsKey]
    body = await json_body(request)
    departure_id = integer(body, "departure_id")
    key = _idempotency_key(request)
    try:
        travellers = validate_travellers(_travellers(body))
        held = await service.hold_seats(
            user, departure_id, travellers, idempotency_key=key, now=now(request), today=today(request),
            hold_minutes=settings.hold_minutes, gst_percent=settings.gst_percent,
            notifier=request.app[NotifierKey],
        )  # fmt: skip
    except ValidationError as exc:
        raise _api_errors(exc) from None
    booking = await service.booking_for(user, held.reference)
    # A replay gets the same answer as the first request, as a retry expects.
    response = web.json_response(await booking_detail(booking, today(request)), status=201)
    response.headers["Location"] = f"/api/v1/bookings/{booking.reference}"
    return response


@bearer_required
async def mine(request: web.Request) -> web.Response:
    groups = await service.my_bookings(api_user(request), today(request))
    return web.json_response({name: [booking_json(b) for b in getattr(groups, name)] for name in ("upcoming", "past", "ended")})


@bearer_required
async def detail(request: web.Request) -> web.Response:
    booking = await _mine(request)
    return web.json_response(await booking_detail(booking, today(request)))


@bearer_required
async def cancel(request: web.Request) -> web.Response:
    user = api_user(request)
    booking = await _mine(request)
    await service.cancel_booking(booking.reference, actor=user, today=today(request), now=now(request))
    booking = await service.booking_for(user, booking.reference)
    await service.send_booking_mail(request.app[NotifierKey], booking, "cancelled")
    return web.json_response(await booking_detail(booking, today(request)))
