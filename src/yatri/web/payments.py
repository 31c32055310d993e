"""The traveller's payment pages: pay by UPI and send the UTR, the receipt; and the
gateway's signed webhook."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from yatri.errors import Conflict, ValidationError
from yatri.keys import NotifierKey, SettingsKey
from yatri.models import Booking
from yatri.services import gateway, payments, upi
from yatri.services.views import payment_view
from yatri.web.auth import current_user, flash, require_login
from yatri.web.clients import costly
from yatri.web.clock import now, today
from yatri.web.forms import read_form
from yatri.web.render import render

log = logging.getLogger("yatri.payments")


async def _pay_context(request: web.Request, booking: Booking) -> dict:
    settings = request.app[SettingsKey]
    view = await payment_view(booking, today(request), settings.upi_vpa, settings.upi_payee_name)
    return {"view": view, "booking": booking, "now": now(request), "form": {"utr": ""}, "errors": {}}


@require_login
async def pay_page(request: web.Request) -> web.Response:
    booking = await payments.owned_booking(request.match_info["ref"], current_user(request))
    return render(request, "pages/pay.html", await _pay_context(request, booking), fragment="fragments/pay_hold.html")


@costly
@require_login
async def submit_utr(request: web.Request) -> web.Response:
    reference = request.match_info["ref"]
    user = current_user(request)
    typed = str((await read_form(request)).get("utr", ""))
    settings = request.app[SettingsKey]
    try:
        await upi.submit_utr(
            reference, typed, user=user, now=now(request), today=today(request), verify_hours=settings.payment_verify_hours
        )
    except (ValidationError, Conflict) as exc:
        booking = await payments.owned_booking(reference, user)
        context = await _pay_context(request, booking)
        errors = exc.errors if isinstance(exc, ValidationError) else {"__all__": exc.detail}
        context.update(form={"utr": typed}, errors=errors)
        return render(request, "pages/pay.html", context, status=exc.status)
    await flash(request, "Thank you: we have your UTR and will confirm your booking once the money arrives.")
    raise web.HTTPSeeOther(f"/bookings/{reference}")


@require_login
async def receipt(request: web.Request) -> web.Response:
    settings = request.app[SettingsKey]
    found = await payments.receipt(request.match_info["ref"], current_user(request))
    context = {
        "receipt": found, "booking": found.booking, "gst_percent": found.gst_percent,
        "payee": settings.upi_payee_name, "issued": now(request),
    }  # fmt: skip
    return render(request, "pages/receipt.html", context)


async def razorpay_webhook(request: web.Request) -> web.Response:
    """Razorpay's events: 400 unless signed with RAZORPAY_WEBHOOK_SECRET; each event id once."""
    body = await request.read()
    settings = request.app[SettingsKey]
    if not gateway.signature_ok(settings.razorpay_webhook_secret, body, request.headers.get("X-Razorpay-Signature")):
        log.warning("razorpay webhook refused: bad or missing signature")
        return web.json_response({"error": "invalid signature"}, status=400)
    try:
        event = json.loads(body)
        event_id = request.headers.get("X-Razorpay-Event-Id") or (event.get("id") if isinstance(event, dict) else None)
        outcome = await gateway.handle_gateway_event(
            event if isinstance(event, dict) else {}, str(event_id or ""), now=now(request), today=today(request),
            notifier=request.app[NotifierKey],
        )  # fmt: skip
    except ValueError as exc:  # not JSON, or a gateway.BadEvent
        return web.json_response({"error": f"unreadable event: {exc}"}, status=400)
    return web.json_response({"status": outcome})
