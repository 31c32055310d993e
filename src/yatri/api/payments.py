"""Paying for a booking by UPI: the payment link and its QR code, then the UTR."""

from __future__ import annotations

from aiohttp import web

from yatri.api.bookings import path_reference
from yatri.api.common import api_user, bearer_required, json_body, now, strings, today
from yatri.keys import SettingsKey
from yatri.models import Booking
from yatri.services import payments


async def _payment_json(request: web.Request, booking: Booking) -> dict:
    settings = request.app[SettingsKey]
    link = payments.booking_link(booking, settings.upi_vpa, settings.upi_payee_name)
    history, refunds = await payments.payment_history(booking)
    return {
        "reference": booking.reference,
        "status": str(booking.status),
        "payable": booking.status in payments.PAYABLE,
        "amount_paise": booking.total_paise,
        "hold_expires_at": booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
        "payee_name": settings.upi_payee_name,
        "vpa": settings.upi_vpa,
        "upi_link": link,
        "qr_svg": payments.qr_svg(link),
        "payments": [
            {"method": str(p.method), "amount_paise": p.amount_paise, "status": str(p.status), "utr": p.utr,
             "submitted_at": p.submitted_at.isoformat() if p.submitted_at else None, "rejection_reason": p.rejection_reason}
            for p in history
        ],
        "refunds": [{"amount_paise": r.amount_paise, "status": str(r.status), "reason": r.reason} for r in refunds],
    }  # fmt: skip


@bearer_required
async def payment(request: web.Request) -> web.Response:
    booking = await payments.owned_booking(path_reference(request), api_user(request))
    return web.json_response(await _payment_json(request, booking))


@bearer_required
async def submit_utr(request: web.Request) -> web.Response:
    user, reference = api_user(request), path_reference(request)
    fields = strings(await json_body(request), "utr")
    await payments.submit_utr(
        reference, fields["utr"], user=user, now=now(request), today=today(request),
        verify_hours=request.app[SettingsKey].payment_verify_hours
    )
    booking = await payments.owned_booking(reference, user)
    return web.json_response(await _payment_json(request, booking), status=201)
