"""Paying for a booking by UPI: the payment link and its QR code, then the UTR."""

from __future__ import annotations

from aiohttp import web

from yatri.api import models as m
from yatri.api.bookings import path_reference
from yatri.api.common import api_user, now, today
from yatri.keys import SettingsKey
from yatri.models import Booking
from yatri.services import payments


async def _payment_info(request: web.Request, booking: Booking) -> m.PaymentInfo:
    settings = request.app[SettingsKey]
    link = payments.booking_link(booking, settings.upi_vpa, settings.upi_payee_name)
    history, refunds = await payments.payment_history(booking)
    return m.PaymentInfo(
        reference=booking.reference, status=booking.status, payable=booking.status in payments.PAYABLE,
        amount_paise=booking.total_paise, hold_expires_at=booking.hold_expires_at, payee_name=settings.upi_payee_name,
        vpa=settings.upi_vpa, upi_link=link, qr_svg=payments.qr_svg(link),
        payments=[m.PaymentLine.model_validate(p) for p in history], refunds=[m.RefundLine.model_validate(r) for r in refunds],
    )  # fmt: skip


async def payment(request: web.Request) -> m.PaymentInfo:
    booking = await payments.owned_booking(path_reference(request), api_user(request))
    return await _payment_info(request, booking)


async def submit_utr(request: web.Request, body: m.UtrSubmission) -> m.PaymentInfo:
    user, reference = api_user(request), path_reference(request)
    await payments.submit_utr(
        reference, body.utr, user=user, now=now(request), today=today(request),
        verify_hours=request.app[SettingsKey].payment_verify_hours,
    )  # fmt: skip
    booking = await payments.owned_booking(reference, user)
    return await _payment_info(request, booking)
