"""The payment gateway (Razorpay): its signed webhook. A capture confirms the booking
when it is exactly what is due and the seats are there; otherwise the money is owed
back as a pending refund. Each event is applied once (its id is stored in the same
transaction as the change it caused).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.exceptions import IntegrityError

from yatri.errors import Conflict
from yatri.models import Booking, BookingStatus, Payment, PaymentMethod, PaymentStatus, Refund, RefundStatus, WebhookEvent
from yatri.services import audit
from yatri.services.money import amount_text
from yatri.services.notify import Notifier, booking_mail, change
from yatri.services.payments import mark_verified
from yatri.services.refunds import refund_paid
from yatri.services.seats import HOLDING_STATUSES, take_seats_back
from yatri.services.state import locked_booking, locked_departure_and_booking

log = logging.getLogger("yatri.payments")


PROVIDER = "razorpay"
REFERENCE_NOTE = "booking_reference"


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """Razorpay's X-Razorpay-Signature: hex HMAC-SHA256 of the raw body. No secret, no entry."""
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


class BadEvent(ValueError):
    """A signed event we cannot read (no id, missing fields)."""


async def handle_gateway_event(
    event: dict, event_id: str, *, now: datetime, today: date, notifier: Notifier
) -> str:
    """Apply one signed event, once: returns what happened ('confirmed', 'duplicate', ...).
    The event id is stored in the same transaction as the change it caused."""
    kind = event.get("event")
    if not event_id or not isinstance(kind, str):
        raise BadEvent("the event has no id or no type")
    try:
        async with change(notifier) as outgoing:
            await WebhookEvent.create(provider=PROVIDER, event_id=event_id[:100], event_type=kind[:60])
            if kind == "payment.captured":
                outcome, booking = await _captured(_entity(event, "payment"), now, today)
            elif kind == "refund.processed":
                outcome, booking = await _refund_processed(_entity(event, "refund"), now), None
            else:
                outcome, booking = "ignored", None
            if outcome in ("confirmed", "refund due"):
                outgoing.add(await booking_mail(booking, outcome.replace(" ", "_")))
    except IntegrityError:
        return "duplicate"
    log.info("razorpay %s %s: %s", kind, event_id, outcome)
    return outcome


def _entity(event: dict, name: str) -> dict:
    entity = ((event.get("payload") or {}).get(name) or {}).get("entity")
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str) or not _paise(entity.get("amount")):
        raise BadEvent(f"the event has no {name} entity with an id and an amount")
    if name == "payment" and not isinstance(entity.get("currency"), str):
        raise BadEvent("the payment has no currency")
    return entity


def _paise(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class Capture:
    """A `payment.captured` entity as Razorpay publishes it: `amount` in the smallest unit of
    `currency`; for another currency, `base_amount` is what settles, in paise of `base_currency` INR."""

    gateway_id: str
    amount: int
    currency: str
    inr_paise: int  # what we hold in rupees: amount, or base_amount for another currency

    @classmethod
    def of(cls, entity: dict) -> Capture:
        currency = entity["currency"].upper()
        base = entity.get("base_amount")
        settled = base if currency != "INR" and entity.get("base_currency") == "INR" and _paise(base) else entity["amount"]
        return cls(entity["id"], entity["amount"], currency, settled)


async def _captured(entity: dict, now: datetime, today: date) -> tuple[str, Booking | None]:
    """Money the gateway captured. It confirms the booking only when it is INR, exactly the
    amount due and the seats are there; otherwise it is recorded as rejected with a pending
    refund the operator sees, so no captured money ever waits as `submitted`."""
    notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
    reference = str(notes.get(REFERENCE_NOTE, "")).strip()
    if not reference or not await Booking.exists(reference=reference):
        log.warning("razorpay payment %s names no booking of ours (%r)", entity["id"], reference)
        return "unknown booking", None
    if await Payment.exists(gateway_payment_id=entity["id"]):
        return "already recorded", None
    capture = Capture.of(entity)
    async with locked_departure_and_booking(reference) as booking:
        payment = await Payment.create(
            booking=booking, method=PaymentMethod.GATEWAY, amount_paise=capture.inr_paise,
            status=PaymentStatus.SUBMITTED, gateway_payment_id=capture.gateway_id, submitted_at=now,
        )  # fmt: skip
        await audit.record(
            "payment", payment.id, "captured", None, payment.status.value,
            data={"gateway": PROVIDER, "amount": capture.amount, "currency": capture.currency},
        )  # fmt: skip
        problem = await _why_not_confirmable(booking, capture, now, today)
        if problem is not None:
            await _refund_captured(payment, booking, problem)
            return "refund due", booking
        await mark_verified(payment, booking, None, now, {"source": "gateway", "gateway_payment_id": capture.gateway_id})
        await _supersede_submitted(booking, payment)
        return "confirmed", booking


async def _why_not_confirmable(booking: Booking, capture: Capture, now: datetime, today: date) -> str | None:
    """Why this capture cannot pay for the booking (the refund's reason), or None."""
    if booking.status not in (*HOLDING_STATUSES, BookingStatus.EXPIRED):
        return f"Paid online after the booking was already {booking.status.replace('_', ' ')}."
    if capture.currency != "INR":
        return f"Paid online in {capture.currency[:3]} ({capture.amount} in its smallest unit), not INR."
    if capture.amount != booking.total_paise:
        return f"Paid online ₹{amount_text(capture.amount)}, but ₹{amount_text(booking.total_paise)} is due."
    try:
        await take_seats_back(booking, now, today)
    except Conflict as exc:
        return f"Paid online too late: {exc.detail}"
    return None


async def _refund_captured(payment: Payment, booking: Booking, why: str) -> None:
    """Money captured that cannot pay for the booking: the payment is rejected (it pays for
    nothing, so a cancellation never counts it) and all of it is owed back."""
    reason = f"{why} The whole payment is refunded."[:300]
    payment.status, payment.rejection_reason = PaymentStatus.REJECTED, reason
    await payment.save()
    await audit.record("payment", payment.id, "reject", PaymentStatus.SUBMITTED.value, payment.status.value, data={"why": why})
    refund = await Refund.create(booking=booking, payment=payment, amount_paise=payment.amount_paise, reason=reason)
    await audit.record(
        "refund", refund.id, "create", None, RefundStatus.PENDING.value,
        data={"booking": booking.reference, "amount_paise": refund.amount_paise, "why": why},
    )  # fmt: skip


async def _supersede_submitted(booking: Booking, paid_by: Payment) -> None:
    """The gateway paid the booking while a UTR waited for the operator: that UTR payment is
    rejected as superseded, with a note. Its money is not known to have arrived, so no refund
    is created for it; if the bank statement shows it, the operator refunds it by hand."""
    reason = (
        f"Superseded: the booking was paid online ({paid_by.gateway_payment_id}). "
        "If this UTR's money also arrived, refund it."
    )
    for payment in await Payment.filter(booking_id=booking.id, status=PaymentStatus.SUBMITTED).exclude(id=paid_by.id):
        payment.status, payment.rejection_reason = PaymentStatus.REJECTED, reason
        await payment.save()
        await audit.record(
            "payment", payment.id, "superseded", PaymentStatus.SUBMITTED.value, PaymentStatus.REJECTED.value,
            data={"booking": booking.reference, "by_payment_id": paid_by.id, "reason": reason},
        )  # fmt: skip


async def _refund_processed(entity: dict, now: datetime) -> str:
    payment = await Payment.get_or_none(gateway_payment_id=str(entity.get("payment_id", ""))).prefetch_related("booking")
    if payment is None:
        return "unknown payment"
    async with locked_booking(payment.booking.reference) as booking:
        pending = await Refund.filter(payment_id=payment.id, status=RefundStatus.PENDING).order_by("id")
        refund = next((r for r in pending if r.amount_paise == entity["amount"]), pending[0] if pending else None)
        if refund is None:
            return "no pending refund"
        await refund_paid(refund, booking, entity["id"], None, now)
    return "refund paid"
