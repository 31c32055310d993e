"""Bookings in each payment state, and signed gateway events, for payment tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime, timedelta, timezone

from yatri.models import Booking, BookingStatus, Payment, PaymentMethod, PaymentStatus, Role, User

from tests.admin_data import make_booking, make_departure, make_trip
from tests.helpers import make_user

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
TODAY = date(2026, 12, 1)  # in India too
SECRET = "whsec-test-3c1f7a"


async def traveller(email: str = "asha@example.com") -> User:
    return await User.get_or_none(email=email) or await make_user(email, name="Asha Rao")


async def operator() -> User:
    return await User.get_or_none(email="ops@example.com") or await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)


async def held_booking(
    *, user: User | None = None, seats: int = 2, capacity: int = 10, status: BookingStatus = BookingStatus.HELD,
    total_paise: int = 2_520_050, expires_in: timedelta = timedelta(minutes=15), departure=None, reference=None,
) -> Booking:  # fmt: skip
    if departure is None:
        trip = await make_trip(slug=f"hampta-{await Booking.all().count()}", title="Hampta Pass Trek")
        departure = await make_departure(trip, date(2027, 1, 10), capacity=capacity)
    booking = await make_booking(
        departure, user or await traveller(), seats, status, total_paise=total_paise,
        hold_expires_at=NOW + expires_in, reference=reference,
        travellers=[{"full_name": f"Traveller {i}", "age": 30 + i} for i in range(1, seats + 1)],
    )  # fmt: skip
    await booking.fetch_related("departure__trip", "user")
    return booking


async def submitted_payment(booking: Booking, utr: str, amount_paise: int | None = None) -> Payment:
    await Booking.filter(id=booking.id).update(status=BookingStatus.PAYMENT_SUBMITTED, hold_expires_at=NOW + timedelta(hours=48))
    return await Payment.create(
        booking=booking, method=PaymentMethod.UPI_QR, amount_paise=amount_paise or booking.total_paise,
        status=PaymentStatus.SUBMITTED, utr=utr, submitted_at=NOW,
    )  # fmt: skip


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def captured_event(
    reference: str, amount_paise: int, payment_id: str = "pay_N1a2B3c4D5e6F7", currency: str = "INR", **fields
) -> bytes:
    """A `payment.captured` event as Razorpay publishes it (payload.payment.entity, amount in
    the currency's smallest unit); `fields` adds or replaces entity fields (base_amount, ...)."""
    entity = {
        "id": payment_id, "entity": "payment", "amount": amount_paise, "currency": currency, "status": "captured",
        "order_id": "order_P9x8Y7z6", "international": currency != "INR", "method": "upi", "amount_refunded": 0,
        "captured": True, "email": "asha@example.com", "contact": "+919876543210", "fee": 0, "tax": 0,
        "notes": {"booking_reference": reference}, "created_at": 1796119100, **fields,
    }  # fmt: skip
    event = {
        "entity": "event", "account_id": "acc_Test", "event": "payment.captured", "contains": ["payment"],
        "payload": {"payment": {"entity": entity}}, "created_at": 1796119200,
    }  # fmt: skip
    return json.dumps(event).encode()


def refund_event(payment_id: str, amount_paise: int, refund_id: str = "rfnd_R1s2T3u4V5") -> bytes:
    event = {
        "entity": "event", "event": "refund.processed", "contains": ["refund", "payment"],
        "payload": {"refund": {"entity": {
            "id": refund_id, "entity": "refund", "amount": amount_paise, "payment_id": payment_id, "status": "processed",
        }}},
    }  # fmt: skip
    return json.dumps(event).encode()
