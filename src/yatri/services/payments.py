"""Payments: the rule whether a booking may be paid now, reading a booking's payments
and receipt, and the operator's verification (or rejection) of a payment. Paying by UPI
is in `upi`, the gateway's webhook in `gateway`, refunds in `refunds`, bank statement
reconciliation in `statements`.

Every change to a payment happens inside the booking's lock, so two operators (or an
operator and the webhook) never change the same booking at once, and it writes its
audit rows in that transaction. A change that may take seats back (a late payment for a
lapsed hold) also holds the departure's lock (`state.locked_departure_and_booking`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from yatri.errors import Conflict, NotFound, ValidationError, YatriError
from yatri.models import Booking, BookingStatus, Payment, PaymentStatus, Refund, User
from yatri.parsing import single_line
from yatri.services import audit
from yatri.services.booking import booking_for
from yatri.services.notify import Notifier, booking_mail, change, payment_rejected_mail
from yatri.services.seats import HOLDING_STATUSES, take_seats_back
from yatri.services.state import locked_departure_and_booking, set_status

# Bookings a traveller can pay for now. A lapsed hold (expired) can still be paid: its
# seats are checked again first. payment_submitted waits for the operator.
PAYABLE = (BookingStatus.HELD, BookingStatus.PENDING_PAYMENT, BookingStatus.EXPIRED)
_NOT_PAYABLE = {
    BookingStatus.PAYMENT_SUBMITTED: "Your payment for this booking is already waiting for our check; "
    "you will get an email when it is verified.",
    BookingStatus.CONFIRMED: "This booking is already paid and confirmed.",
    BookingStatus.CANCELLED: "This booking was cancelled, so it can no longer be paid for.",
    BookingStatus.REFUNDED: "This booking was cancelled and refunded, so it can no longer be paid for.",
}


def check_payable(booking: Booking, today: date) -> None:
    """The one rule whether the traveller may pay for this booking now (`today` is the
    operator's date): Conflict with the reason when not. A lapsed hold passes here; its
    seats are checked again under the lock (`seats.take_seats_back`)."""
    status = BookingStatus(booking.status)
    if status not in PAYABLE:
        raise Conflict(_NOT_PAYABLE[status])
    if booking.departure.starts_on <= today:
        raise Conflict("This departure has already started, so it can no longer be paid for.")


def payable(booking: Booking, today: date) -> bool:
    try:
        check_payable(booking, today)
    except Conflict:
        return False
    return True


# --- reading ---------------------------------------------------------------------


async def owned_booking(reference: str, user: User) -> Booking:
    """The booking if `user` owns it: an admin too gets NotFound, paying is the traveller's."""
    return await booking_for(user, reference, admins=False)


async def payment_history(booking: Booking) -> tuple[list[Payment], list[Refund]]:
    """The booking's payments and refunds: what `fragments/booking_payment.html` shows."""
    payments = await Payment.filter(booking_id=booking.id).order_by("-created_at", "-id")
    refunds = await Refund.filter(booking_id=booking.id).order_by("-created_at", "-id")
    return payments, refunds


async def submitted_payments() -> list[Payment]:
    """The operator's queue: submitted payments, oldest first."""
    return (
        await Payment.filter(status=PaymentStatus.SUBMITTED)
        .order_by("submitted_at", "id")
        .prefetch_related("booking__user", "booking__departure__trip")
    )


@dataclass(frozen=True)
class Receipt:
    booking: Booking
    travellers: list
    payments: list[Payment]
    gst_percent: int | None  # None on bookings made before the rate was kept with them


async def receipt(reference: str, user: User) -> Receipt:
    booking = await booking_for(user, reference)
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict("A receipt is available once the booking is confirmed.")
    travellers = await booking.travellers.all()
    payments = await Payment.filter(booking_id=booking.id, status=PaymentStatus.VERIFIED).order_by("verified_at")
    return Receipt(booking, list(travellers), list(payments), booking.gst_percent)


# --- the operator's verification ----------------------------------------------------


async def _payment_booking(payment_id: int) -> str:
    payment = await Payment.get_or_none(id=payment_id).prefetch_related("booking")
    if payment is None:
        raise NotFound("This payment does not exist.")
    return payment.booking.reference


async def _submitted(payment_id: int) -> Payment:
    payment = await Payment.get(id=payment_id)
    if payment.status != PaymentStatus.SUBMITTED:
        raise Conflict(f"This payment is already {payment.status}; nothing was changed.")
    return payment


async def verify_payment(
    payment_id: int,
    *,
    actor: User,
    now: datetime,
    today: date,
    notifier: Notifier,
    expected: tuple[str, int] | None = None,
    source: dict | None = None,
) -> Payment:
    """The money is in the operator's account: payment verified, booking confirmed, the
    traveller emailed. `expected` (UTR, amount) refuses a payment changed since the operator
    looked (a statement match); `source` goes into the audit row."""
    reference = await _payment_booking(payment_id)
    async with change(notifier) as outgoing, locked_departure_and_booking(reference) as booking:
        payment = await _submitted(payment_id)
        if expected is not None and (payment.utr, payment.amount_paise) != expected:
            raise Conflict("This payment changed since the statement was read; nothing was changed.")
        if booking.status not in (*HOLDING_STATUSES, BookingStatus.EXPIRED):
            raise Conflict(f"The booking is {booking.status.replace('_', ' ')}, so this payment cannot confirm it.")
        await take_seats_back(booking, now, today)
        await mark_verified(payment, booking, actor, now, source or {"source": "queue"})
        outgoing.add(await booking_mail(booking, "confirmed"))
    return payment


@dataclass(frozen=True)
class StatementMatch:
    """A statement row the operator chose to verify, as the match was shown."""

    payment_id: int
    utr: str
    amount_paise: int
    line: int


async def verify_statement_matches(
    matches: list[StatementMatch], *, actor: User, now: datetime, today: date, notifier: Notifier
) -> tuple[int, list[str]]:
    """Verify each chosen match in its own transaction: one that changed since the upload is
    reported (and left alone) while the others go through. Returns (verified, problems)."""
    verified, problems = 0, []
    for match in matches:
        try:
            await verify_payment(
                match.payment_id, actor=actor, now=now, today=today, notifier=notifier, expected=(match.utr, match.amount_paise),
                source={"source": "statement", "line": match.line},
            )  # fmt: skip
        except YatriError as exc:
            problems.append(f"UTR {match.utr}: {exc.detail}")
        else:
            verified += 1
    return verified, problems


async def mark_verified(payment: Payment, booking: Booking, actor: User | None, now: datetime, data: dict) -> None:
    before = payment.status
    payment.status, payment.verified_at, payment.verified_by = PaymentStatus.VERIFIED, now, actor
    await payment.save()
    await audit.record("payment", payment.id, "verify", before, PaymentStatus.VERIFIED.value, actor=actor, data=data)
    if booking.status == BookingStatus.EXPIRED:  # a late payment: seats already checked under the lock
        await set_status(booking, BookingStatus.PAYMENT_SUBMITTED, actor=actor, action="late_payment")
    await set_status(
        booking, BookingStatus.CONFIRMED, actor=actor, action="payment_verified",
        data={"payment_id": payment.id, **data}, hold_expires_at=None,
    )  # fmt: skip


async def reject_payment(
    payment_id: int, reason: str, *, actor: User, now: datetime, hold_minutes: int, notifier: Notifier
) -> Payment:
    """The money did not arrive (or not in full): payment rejected with a reason, the
    traveller emailed; the booking waits for a new payment with a fresh short hold."""
    reference = await _payment_booking(payment_id)  # NotFound first: a reason is for a payment that is there
    reason = single_line(reason)
    if not reason:
        raise ValidationError({"reason": "Say why the payment is rejected; the traveller is told."})
    if len(reason) > 300:
        raise ValidationError({"reason": f"Keep the reason under 300 characters (it has {len(reason)})."})
    async with change(notifier) as outgoing, locked_departure_and_booking(reference) as booking:
        payment = await _submitted(payment_id)
        payment.status, payment.rejection_reason = PaymentStatus.REJECTED, reason
        await payment.save()
        await audit.record(
            "payment", payment.id, "reject", PaymentStatus.SUBMITTED.value, PaymentStatus.REJECTED.value,
            actor=actor, data={"reason": reason},
        )  # fmt: skip
        if booking.status == BookingStatus.PAYMENT_SUBMITTED:
            await set_status(
                booking, BookingStatus.PENDING_PAYMENT, actor=actor, action="payment_rejected",
                data={"payment_id": payment.id, "reason": reason}, hold_expires_at=now + timedelta(minutes=hold_minutes),
            )  # fmt: skip
        outgoing.add(await payment_rejected_mail(booking, payment, reason))
    return payment


