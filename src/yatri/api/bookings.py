"""The traveller's bookings: hold seats with travellers, list, read, cancel.

The same booking service as the HTML pages; another user's booking is 404.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from aiohttp import web

from yatri.api import models as m
from yatri.api.common import api_user, now, today
from yatri.api.contract import Reply
from yatri.errors import NotFound, ValidationError
from yatri.keys import NotifierKey, SettingsKey
from yatri.models import Booking, BookingStatus
from yatri.services import booking as service
from yatri.services import quotes
from yatri.services.state import STATUS_LABELS
from yatri.services.travellers import saved_details, validate_travellers
from yatri.services.views import booking_view

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


def booking_fields(booking: Booking) -> dict:
    departure = booking.departure
    return {
        "reference": booking.reference, "status": booking.status,
        "status_label": STATUS_LABELS[BookingStatus(booking.status)], "seats": booking.seats,
        "unit_price_paise": booking.unit_price_paise, "discount_percent": booking.discount_percent,
        "discount_paise": booking.discount_paise, "subtotal_paise": booking.subtotal_paise,
        "gst_paise": booking.gst_paise, "gst_percent": booking.gst_percent, "total_paise": booking.total_paise, "hold_expires_at": booking.hold_expires_at,
        "created_at": booking.created_at, "cancelled_at": booking.cancelled_at,
        "trip": m.BookingTrip.model_validate(departure.trip), "departure": m.BookingDeparture.model_validate(departure),
    }  # fmt: skip


async def booking_detail(booking: Booking, at: datetime, on: date) -> m.BookingDetail:
    view = await booking_view(booking, at, on)
    return m.BookingDetail(
        **booking_fields(booking),
        travellers=[saved_details(t) for t in view.travellers],
        payments=[m.PaymentLine.model_validate(p) for p in view.payments],
        refunds=[m.RefundLine.model_validate(r) for r in view.refunds],
        refund_quote=None if view.refund_quote is None else m.RefundQuote.model_validate(view.refund_quote),
        actions=m.BookingActions(pay=view.can_pay, cancel=view.can_cancel, edit_travellers=view.can_edit),
    )


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


async def create(request: web.Request, body: m.BookingRequest) -> Reply:
    user, settings = api_user(request), request.app[SettingsKey]
    key = _idempotency_key(request)
    try:
        travellers = validate_travellers([t.model_dump() for t in body.travellers])
        held = await service.hold_seats(
            user, body.departure_id, travellers, idempotency_key=key, now=now(request), today=today(request),
            hold_minutes=settings.hold_minutes,
            notifier=request.app[NotifierKey],
        )  # fmt: skip
    except ValidationError as exc:
        raise _api_errors(exc) from None
    booking = await service.booking_for(user, held.reference)
    # A replay gets the same answer as the first request, as a retry expects.
    return Reply(await booking_detail(booking, now(request), today(request)), {"Location": f"/api/v1/bookings/{booking.reference}"})


async def quote(request: web.Request, body: m.QuoteRequest) -> m.Quote:
    try:
        price = await quotes.quote(body.departure_id, body.travellers, today(request))
    except ValidationError as exc:
        raise ValidationError({"travellers": exc.errors["count"]}) from None  # the trip's limit per booking
    return m.Quote(
        departure_id=body.departure_id, travellers=price.seats, unit_price_paise=price.unit_paise, list_paise=price.list_paise,
        discount_percent=price.discount_percent, discount_paise=price.discount_paise, subtotal_paise=price.subtotal_paise,
        gst_percent=price.gst_percent, gst_paise=price.gst_paise, total_paise=price.total_paise,
    )  # fmt: skip


async def mine(request: web.Request) -> m.BookingList:
    groups = await service.my_bookings(api_user(request), today(request))
    return m.BookingList(**{name: [booking_fields(b) for b in getattr(groups, name)] for name in ("upcoming", "past", "ended")})


async def detail(request: web.Request) -> m.BookingDetail:
    return await booking_detail(await _mine(request), now(request), today(request))


async def cancel(request: web.Request) -> m.BookingDetail:
    user = api_user(request)
    booking = await _mine(request)
    await service.cancel_booking(
        booking.reference, actor=user, today=today(request), now=now(request), notifier=request.app[NotifierKey]
    )
    booking = await service.booking_for(user, booking.reference)
    return await booking_detail(booking, now(request), today(request))
