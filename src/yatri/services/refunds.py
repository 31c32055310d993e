"""Money back: what a cancellation gives back by the trip's policy (the refund quote),
the operator's refund queue, and paying a refund out. Paying out happens inside the
booking's lock; a cancelled booking whose refunds are all paid becomes refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import Booking, BookingStatus, Payment, PaymentStatus, Refund, RefundStatus, User
from yatri.parsing import single_line
from yatri.services import audit
from yatri.services.state import locked_booking, set_status


@dataclass(frozen=True)
class RefundQuote:
    days_before: int
    percent: int
    paid_paise: int
    amount_paise: int


async def paid_paise(booking: Booking) -> int:
    rows = await Payment.filter(booking_id=booking.id, status=PaymentStatus.VERIFIED).values_list("amount_paise", flat=True)
    return sum(rows)


def refund_percent(policy: list[dict], days_before: int) -> int:
    """The tier with the largest `min_days` that `days_before` reaches; 0 without one."""
    tiers = sorted(policy or [], key=lambda tier: tier["min_days"], reverse=True)
    return next((int(t["percent"]) for t in tiers if days_before >= int(t["min_days"])), 0)


async def refund_quote(booking: Booking, today: date) -> RefundQuote:
    """What cancelling today gives back, by the trip's cancellation policy."""
    days_before = (booking.departure.starts_on - today).days
    percent = refund_percent(booking.departure.trip.cancellation_policy, days_before)
    paid = await paid_paise(booking)
    return RefundQuote(days_before, percent, paid, paid * percent // 100)


async def pending_refunds() -> list[Refund]:
    return await Refund.filter(status=RefundStatus.PENDING).order_by("created_at", "id").prefetch_related(
        "booking__user", "payment"
    )


async def recent_refunds(limit: int = 20) -> list[Refund]:
    return await Refund.filter(status=RefundStatus.PAID).order_by("-paid_at", "-id").limit(limit).prefetch_related(
        "booking__user"
    )


async def mark_refund_paid(refund_id: int, reference: str, *, actor: User | None, now: datetime) -> Refund:
    """The operator (or the gateway) paid a refund out: refund paid with its reference; a
    cancelled booking whose refunds are all paid becomes refunded."""
    reference = single_line(reference)
    if not reference:
        raise ValidationError({"reference": "Enter the bank or UPI reference of the refund payout."})
    if len(reference) > 64:
        raise ValidationError({"reference": "A payout reference has at most 64 characters."})
    refund = await Refund.get_or_none(id=refund_id).prefetch_related("booking")
    if refund is None:
        raise NotFound("This refund does not exist.")
    async with locked_booking(refund.booking.reference) as booking:
        refund = await Refund.get(id=refund_id)
        refund.booking = booking
        if refund.status != RefundStatus.PENDING:
            raise Conflict(f"This refund was already paid (reference {refund.reference}); nothing was changed.")
        await refund_paid(refund, booking, reference, actor, now)
    return refund


async def refund_paid(refund: Refund, booking: Booking, reference: str, actor: User | None, now: datetime) -> None:
    refund.status, refund.reference, refund.paid_at = RefundStatus.PAID, reference, now
    await refund.save()
    await audit.record(
        "refund", refund.id, "paid", RefundStatus.PENDING.value, RefundStatus.PAID.value, actor=actor,
        data={"booking": booking.reference, "reference": reference, "amount_paise": refund.amount_paise},
    )  # fmt: skip
    if refund.payment_id is not None:
        await _payment_refunded(refund.payment_id, actor)
    pending = await Refund.filter(booking_id=booking.id, status=RefundStatus.PENDING).exists()
    if booking.status == BookingStatus.CANCELLED and not pending:
        await set_status(booking, BookingStatus.REFUNDED, actor=actor, action="refunded", data={"refund_id": refund.id})


async def _payment_refunded(payment_id: int, actor: User | None) -> None:
    payment = await Payment.get(id=payment_id)
    paid_back = sum(r.amount_paise for r in await Refund.filter(payment_id=payment_id, status=RefundStatus.PAID))
    if payment.status in (PaymentStatus.VERIFIED, PaymentStatus.REJECTED) and paid_back >= payment.amount_paise:
        before, payment.status = payment.status, PaymentStatus.REFUNDED
        await payment.save()
        await audit.record("payment", payment.id, "refunded", before.value, payment.status.value, actor=actor)
