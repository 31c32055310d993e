"""Read models that the HTML pages and the JSON API both render: a booking with what its
owner may do with it now, and what paying for it takes. Each rule it carries is asked of
the service that owns it (`payments.payable`, `booking.check_cancellable`, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from yatri.errors import Conflict
from yatri.models import Booking, BookingStatus, Payment, Refund, Traveller
from yatri.services import booking as bookings
from yatri.services import payments, upi
from yatri.services.refunds import RefundQuote, refund_quote
from yatri.services.seats import HOLDING_STATUSES, holds_seats
from yatri.services.state import STATUS_LABELS


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    status_label: str
    travellers: list[Traveller]
    payments: list[Payment]  # newest first
    refunds: list[Refund]  # newest first
    lapsed: bool  # a hold whose time ran out, before the periodic job marks it expired
    can_pay: bool  # a lapsed hold may still be paid while seats are left: paying checks them again
    can_cancel: bool
    can_edit: bool  # the travellers' details
    refund_quote: RefundQuote | None  # what cancelling today gives back, when it may be cancelled


async def booking_view(booking: Booking, now: datetime, today: date) -> BookingView:
    """`booking` with its departure and trip fetched; `today` is the operator's date."""
    history, refunds = await payments.payment_history(booking)
    can_cancel = _allowed(bookings.check_cancellable, booking, today)
    return BookingView(
        booking=booking,
        status_label=STATUS_LABELS[BookingStatus(booking.status)],
        travellers=list(await Traveller.filter(booking_id=booking.id).order_by("position")),
        payments=history,
        refunds=refunds,
        lapsed=booking.status in HOLDING_STATUSES and not holds_seats(booking, now),
        can_pay=payments.payable(booking, today),
        can_cancel=can_cancel,
        can_edit=_allowed(bookings.check_editable, booking, today),
        refund_quote=await refund_quote(booking, today) if can_cancel else None,
    )


@dataclass(frozen=True)
class PaymentView:
    booking: Booking
    payable: bool
    amount_paise: int
    payee_name: str
    vpa: str
    upi_link: str
    qr_svg: str
    payments: list[Payment]  # newest first
    refunds: list[Refund]  # newest first


async def payment_view(booking: Booking, today: date, vpa: str, payee_name: str) -> PaymentView:
    """What the pay page and the API's payment answer show: the UPI link and QR code for
    the amount due, whether it may be paid now, and the payments so far."""
    link = upi.booking_link(booking, vpa, payee_name)
    history, refunds = await payments.payment_history(booking)
    return PaymentView(
        booking=booking, payable=payments.payable(booking, today), amount_paise=booking.total_paise,
        payee_name=payee_name, vpa=vpa, upi_link=link, qr_svg=upi.qr_svg(link), payments=history, refunds=refunds,
    )  # fmt: skip


def _allowed(check, *args) -> bool:
    try:
        check(*args)
    except Conflict:
        return False
    return True
