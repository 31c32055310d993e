"""Payments: the UPI deep link and QR code, UTR submission, the operator's verification,
the gateway webhook and refunds. Bank statement reconciliation is in `statements`.

Every change to a payment or a refund happens inside the booking's lock
(`locked_booking`), so two operators (or an operator and the webhook) never change the
same booking at once, and it writes its audit rows in that transaction. A change that
may take seats back (a late payment for a lapsed hold) also holds the departure's lock,
taken first, in the same order as `hold_seats`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote

import qrcode
from qrcode.image.svg import SvgPathImage
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound, ValidationError, YatriError
from yatri.models import (
    Booking,
    BookingStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    User,
    WebhookEvent,
)
from yatri.parsing import single_line
from yatri.services import audit
from yatri.services.booking import (
    HOLDING_STATUSES,
    booking_for,
    holds_seats,
    locked_booking,
    locked_departure_and_booking,
    seats_taken,
    send_booking_mail,
    set_status,
)
from yatri.services.money import amount_text
from yatri.services.notify import Notifier
from yatri.services.pricing import price_breakdown

log = logging.getLogger("yatri.payments")

_UTR = re.compile(r"[0-9]{12}")
NOTE_LENGTH = 50  # UPI apps cut the transaction note; the reference must survive

# Bookings a traveller can pay for now. A lapsed hold (expired) can still be paid: its
# seats are checked again first. payment_submitted waits for the operator.
PAYABLE = (BookingStatus.HELD, BookingStatus.PENDING_PAYMENT, BookingStatus.EXPIRED)


# --- the UPI link and QR code ------------------------------------------------------


def upi_note(trip_title: str, reference: str) -> str:
    room = NOTE_LENGTH - len(reference) - 1
    title = trip_title if len(trip_title) <= room else trip_title[: room - 1].rstrip() + "…"
    return f"{title} {reference}"


def upi_link(vpa: str, payee_name: str, amount_paise: int, reference: str, trip_title: str) -> str:
    """The UPI deep link (NPCI's `upi://pay`), every value percent-encoded ('@' is legal in a query)."""
    params = [
        ("pa", vpa),
        ("pn", payee_name),
        ("am", amount_text(amount_paise)),
        ("cu", "INR"),
        ("tn", upi_note(trip_title, reference)),
        ("tr", reference),
    ]
    return "upi://pay?" + "&".join(f"{name}={quote(value, safe='@')}" for name, value in params)


def qr_svg(data: str) -> str:
    """An inline SVG QR code (one path, no style attributes; CSS sets its size)."""
    return qrcode.make(data, image_factory=SvgPathImage).to_string(encoding="unicode")


def booking_link(booking: Booking, vpa: str, payee_name: str) -> str:
    return upi_link(vpa, payee_name, booking.total_paise, booking.reference, booking.departure.trip.title)


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


async def pending_refunds() -> list[Refund]:
    return await Refund.filter(status=RefundStatus.PENDING).order_by("created_at", "id").prefetch_related(
        "booking__user", "payment"
    )


async def recent_refunds(limit: int = 20) -> list[Refund]:
    return await Refund.filter(status=RefundStatus.PAID).order_by("-paid_at", "-id").limit(limit).prefetch_related(
        "booking__user"
    )


@dataclass(frozen=True)
class Receipt:
    booking: Booking
    travellers: list
    payments: list[Payment]
    gst_percent: int | None  # None when the booking's GST was charged at another rate


async def receipt(reference: str, user: User, gst_percent: int) -> Receipt:
    booking = await booking_for(user, reference)
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict("A receipt is available once the booking is confirmed.")
    travellers = await booking.travellers.all()
    payments = await Payment.filter(booking_id=booking.id, status=PaymentStatus.VERIFIED).order_by("verified_at")
    charged = price_breakdown(booking.unit_price_paise, booking.seats, gst_percent).gst_paise == booking.gst_paise
    return Receipt(booking, list(travellers), list(payments), gst_percent if charged else None)


# --- locks and seats ---------------------------------------------------------------


async def _take_seats_back(booking: Booking, now: datetime, today: date) -> None:
    """For a booking whose hold lapsed: its seats again, or a clear Conflict. Call under the
    departure lock. `today` is the operator's date: a run leaving today is no longer sold."""
    if holds_seats(booking, now):
        return
    departure = booking.departure
    if departure.cancelled_at is not None:
        raise Conflict(
            "This departure was cancelled, so it cannot be paid for. If you have already paid, contact us "
            "with your UTR and we will refund you."
        )
    if departure.starts_on <= today:
        raise Conflict("This departure has already started, so it can no longer be paid for.")
    if departure.sales_closed:
        raise Conflict("Booking for this departure has closed and the hold on these seats lapsed, so they cannot be paid for.")
    left = departure.capacity - await seats_taken(departure.id, now)
    if left < booking.seats:
        raise Conflict(
            f"The hold on this booking lapsed and its seats have been sold: {max(left, 0)} of the "
            f"{booking.seats} seats are free now. If you have already paid, contact us with your UTR "
            "and we will refund you."
        )


# --- UTR submission ----------------------------------------------------------------


def clean_utr(raw: str) -> str:
    """The 12-digit UPI transaction reference; spaces (as some apps show it) are dropped."""
    utr = "".join(raw.split())
    if not _UTR.fullmatch(utr):
        raise ValidationError(
            {"utr": "The UTR is the 12-digit UPI transaction reference shown in your UPI app: enter exactly 12 digits."}
        )
    return utr


async def submit_utr(
    reference: str, raw_utr: str, *, user: User, now: datetime, today: date, verify_hours: int
) -> Payment:
    """The traveller paid and tells us the UTR: payment submitted, booking payment_submitted,
    seats reserved for the verification window."""
    utr = clean_utr(raw_utr)
    reference = (await owned_booking(reference, user)).reference
    try:
        async with locked_departure_and_booking(reference) as booking:
            _check_payable(booking)
            await _take_seats_back(booking, now, today)
            payment = await _submitted_payment(booking, utr, now, user)
            await set_status(
                booking, BookingStatus.PAYMENT_SUBMITTED, actor=user, action="payment_submitted",
                data={"payment_id": payment.id, "utr": utr}, hold_expires_at=now + timedelta(hours=verify_hours),
            )  # fmt: skip
    except IntegrityError:  # the same UTR sent for another booking at the same moment
        raise _utr_taken() from None
    return payment


def _check_payable(booking: Booking) -> None:
    status = BookingStatus(booking.status)
    if status in PAYABLE:
        return
    messages = {
        BookingStatus.PAYMENT_SUBMITTED: "Your payment for this booking is already waiting for our check; "
        "you will get an email when it is verified.",
        BookingStatus.CONFIRMED: "This booking is already paid and confirmed.",
        BookingStatus.CANCELLED: "This booking was cancelled, so it can no longer be paid for.",
        BookingStatus.REFUNDED: "This booking was cancelled and refunded, so it can no longer be paid for.",
    }
    raise Conflict(messages[status])


def _utr_taken() -> ValidationError:
    return ValidationError({"utr": "This UTR has already been used for another payment. Check the 12 digits in your UPI app."})


async def _submitted_payment(booking: Booking, utr: str, now: datetime, user: User) -> Payment:
    """A new submitted payment, or the booking's own rejected one sent again with the same UTR."""
    payment = await Payment.get_or_none(utr=utr)
    if payment is not None and not (payment.booking_id == booking.id and payment.status == PaymentStatus.REJECTED):
        raise _utr_taken()
    before = payment.status if payment else None
    if payment is None:
        payment = await Payment.create(
            booking=booking, method=PaymentMethod.UPI_QR, amount_paise=booking.total_paise,
            status=PaymentStatus.SUBMITTED, utr=utr, submitted_at=now,
        )  # fmt: skip
    else:
        payment.status, payment.submitted_at, payment.rejection_reason = PaymentStatus.SUBMITTED, now, None
        payment.amount_paise = booking.total_paise
        await payment.save()
    await audit.record(
        "payment", payment.id, "submit", before, PaymentStatus.SUBMITTED.value, actor=user,
        data={"booking": booking.reference, "utr": utr, "amount_paise": payment.amount_paise},
    )  # fmt: skip
    return payment


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
    async with locked_departure_and_booking(reference) as booking:
        payment = await _submitted(payment_id)
        if expected is not None and (payment.utr, payment.amount_paise) != expected:
            raise Conflict("This payment changed since the statement was read; nothing was changed.")
        if booking.status not in (*HOLDING_STATUSES, BookingStatus.EXPIRED):
            raise Conflict(f"The booking is {booking.status.replace('_', ' ')}, so this payment cannot confirm it.")
        await _take_seats_back(booking, now, today)
        await _mark_verified(payment, booking, actor, now, source or {"source": "queue"})
    await send_booking_mail(notifier, booking, "confirmed")
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


async def _mark_verified(payment: Payment, booking: Booking, actor: User | None, now: datetime, data: dict) -> None:
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
    async with locked_departure_and_booking(reference) as booking:
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
    await booking.fetch_related("user")
    await notifier.send(
        booking.user.email, f"Your payment for booking {booking.reference} was not accepted",
        "email/payment_rejected.txt", booking=booking, payment=payment, reason=reason,
    )  # fmt: skip
    return payment


# --- refunds -----------------------------------------------------------------------


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
        await _refund_paid(refund, booking, reference, actor, now)
    return refund


async def _refund_paid(refund: Refund, booking: Booking, reference: str, actor: User | None, now: datetime) -> None:
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


# --- the gateway webhook (Razorpay) -----------------------------------------------------

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
        async with in_transaction():
            await WebhookEvent.create(provider=PROVIDER, event_id=event_id[:100], event_type=kind[:60])
            if kind == "payment.captured":
                outcome, booking = await _captured(_entity(event, "payment"), now, today)
            elif kind == "refund.processed":
                outcome, booking = await _refund_processed(_entity(event, "refund"), now), None
            else:
                outcome, booking = "ignored", None
    except IntegrityError:
        return "duplicate"
    if outcome in ("confirmed", "refund due"):  # after the commit
        await send_booking_mail(notifier, booking, outcome.replace(" ", "_"))
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
        await _mark_verified(payment, booking, None, now, {"source": "gateway", "gateway_payment_id": capture.gateway_id})
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
        await _take_seats_back(booking, now, today)
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
        await _refund_paid(refund, booking, entity["id"], None, now)
    return "refund paid"
