"""Paying for a booking by UPI: the payment link and its QR code, then the UTR."""

from __future__ import annotations

from aiohttp import web

from yatri.api import models as m
from yatri.api.bookings import path_reference
from yatri.api.common import api_user, now, today
from yatri.keys import SettingsKey
from yatri.models import Booking
from yatri.services import payments, upi
from yatri.services.views import payment_view


async def _payment_info(request: web.Request, booking: Booking) -> m.PaymentInfo:
    settings = request.app[SettingsKey]
    view = await payment_view(booking, today(request), settings.upi_vpa, settings.upi_payee_name)
    return m.PaymentInfo(
        reference=booking.reference, status=booking.status, payable=view.payable, amount_paise=view.amount_paise,
        hold_expires_at=booking.hold_expires_at, payee_name=view.payee_name, vpa=view.vpa, upi_link=view.upi_link,
        qr_svg=view.qr_svg, payments=[m.PaymentLine.model_validate(p) for p in view.payments],
        refunds=[m.RefundLine.model_validate(r) for r in view.refunds],
    )  # fmt: skip


async def payment(request: web.Request) -> m.PaymentInfo:
    booking = await payments.owned_booking(path_reference(request), api_user(request))
    return await _payment_info(request, booking)


async def submit_utr(request: web.Request, body: m.UtrSubmission) -> m.PaymentInfo:
    user, reference = api_user(request), path_reference(request)
    await upi.submit_utr(
        reference, body.utr, user=user, now=now(request), today=today(request),
        verify_hours=request.app[SettingsKey].payment_verify_hours,
    )  # fmt: skip
    booking = await payments.owned_booking(reference, user)
    return await _payment_info(request, booking)
