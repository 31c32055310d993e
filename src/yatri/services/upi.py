"""Paying by UPI: the payment link (NPCI's `upi://pay`) and its QR code, and the
traveller's UTR, which reserves the seats until the operator verifies the money
(`payments.verify_payment`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import quote

import qrcode
from qrcode.image.svg import SvgPathImage
from tortoise.exceptions import IntegrityError

from yatri.errors import ValidationError
from yatri.models import Booking, BookingStatus, Payment, PaymentMethod, PaymentStatus, User
from yatri.services import audit
from yatri.services.money import amount_text
from yatri.services.payments import check_payable, owned_booking
from yatri.services.seats import take_seats_back
from yatri.services.state import locked_departure_and_booking, set_status

NOTE_LENGTH = 50  # UPI apps cut the transaction note; the reference must survive
_UTR = re.compile(r"[0-9]{12}")


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
            sent = await _already_sent(booking, utr)
            if sent is not None:  # the same UTR again (a retry after a lost answer): done once
                return sent
            check_payable(booking, today)
            await take_seats_back(booking, now, today)
            payment = await _submitted_payment(booking, utr, now, user)
            await set_status(
                booking, BookingStatus.PAYMENT_SUBMITTED, actor=user, action="payment_submitted",
                data={"payment_id": payment.id, "utr": utr}, hold_expires_at=now + timedelta(hours=verify_hours),
            )  # fmt: skip
    except IntegrityError:  # the same UTR sent for another booking at the same moment
        raise _utr_taken() from None
    return payment


async def _already_sent(booking: Booking, utr: str) -> Payment | None:
    """This booking's payment with this UTR, when it is waiting or verified."""
    return await Payment.get_or_none(
        booking_id=booking.id, utr=utr, status__in=(PaymentStatus.SUBMITTED, PaymentStatus.VERIFIED)
    )


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
