"""POST /payments/webhook/razorpay on both databases: signed with the secret in the test,
replayed, forged, unsigned, and with no secret configured."""

import dataclasses
import json
from datetime import timedelta

import pytest

from yatri.keys import ClockKey
from yatri.models import AuditLog, Booking, BookingStatus, Payment, PaymentMethod, PaymentStatus, Refund, RefundStatus, WebhookEvent

from tests.helpers import login
from tests.payments_data import (
    NOW, SECRET, captured_event, held_booking, operator, refund_event, sign, submitted_payment, traveller,
)  # fmt: skip

URL = "/payments/webhook/razorpay"


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, razorpay_webhook_secret=SECRET)


@pytest.fixture
def app(app):
    app[ClockKey] = lambda: NOW
    return app


async def post(client, body: bytes, event_id: str = "evt_1", signature: str | None = None):
    headers = {"Content-Type": "application/json", "X-Razorpay-Event-Id": event_id}
    if signature != "":
        headers["X-Razorpay-Signature"] = signature or sign(body)
    return await client.post(URL, data=body, headers=headers)


async def changes() -> tuple[int, int, int, int]:
    return (await Payment.all().count(), await WebhookEvent.all().count(), await AuditLog.all().count(), await Refund.all().count())


async def test_a_captured_payment_confirms_the_booking(client, smtp_outbox):
    booking = await held_booking(total_paise=2_520_050)
    response = await post(client, captured_event(booking.reference, 2_520_050))
    assert response.status == 200 and (await response.json()) == {"status": "confirmed"}
    payment = await Payment.get(booking_id=booking.id)
    assert (payment.method, payment.status, payment.gateway_payment_id) == (PaymentMethod.GATEWAY, PaymentStatus.VERIFIED, "pay_N1a2B3c4D5e6F7")
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CONFIRMED
    assert await WebhookEvent.filter(provider="razorpay", event_id="evt_1", event_type="payment.captured").exists()
    [mail] = await smtp_outbox.wait_for(1)
    assert booking.reference in mail["Subject"]


async def test_a_replayed_event_is_acknowledged_and_ignored(client):
    booking = await held_booking()
    body = captured_event(booking.reference, booking.total_paise)
    assert (await post(client, body)).status == 200
    before = await changes()
    response = await post(client, body)
    assert response.status == 200 and (await response.json()) == {"status": "duplicate"}
    assert await changes() == before


FORGERIES = {
    "unsigned": lambda body: "",
    "zeros": lambda body: "0" * 64,
    "garbage": lambda body: "not-hex",
    "another body": lambda body: sign(b"another body"),
    "another secret": lambda body: sign(body, secret="someone-elses-secret"),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_an_unsigned_or_forged_event_gets_400_and_changes_nothing(client, forge):
    booking = await held_booking()
    body = captured_event(booking.reference, booking.total_paise)
    response = await post(client, body, signature=forge(body))
    assert response.status == 400
    assert await changes() == (0, 0, 0, 0)
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD


async def test_a_body_changed_after_signing_is_refused(client):
    booking = await held_booking()
    body = captured_event(booking.reference, booking.total_paise)
    tampered = body.replace(str(booking.total_paise).encode(), b"100")
    assert (await post(client, tampered, signature=sign(body))).status == 400
    assert await changes() == (0, 0, 0, 0)


async def test_without_a_secret_every_event_is_refused(aiohttp_client, settings, client):
    from yatri.app import create_app

    app = create_app(dataclasses.replace(settings, razorpay_webhook_secret=""))
    other = await aiohttp_client(app)
    booking = await held_booking()
    body = captured_event(booking.reference, booking.total_paise)
    for signature in (sign(body), sign(body, secret="")):
        assert (await post(other, body, signature=signature)).status == 400
    assert await changes() == (0, 0, 0, 0)


async def test_a_signed_event_without_an_id_or_payment_is_refused(client):
    body = json.dumps({"event": "payment.captured", "payload": {}}).encode()
    assert (await post(client, body, event_id="evt_2")).status == 400
    assert (await client.post(URL, data=b"{not json", headers={"X-Razorpay-Signature": sign(b"{not json")})).status == 400
    assert await changes() == (0, 0, 0, 0)


async def refund_due_for(client, booking: Booking, body: bytes, amount_paise: int) -> Refund:
    """The capture did not confirm the booking: its payment is rejected with a reason, a pending
    refund of it is on the operator's refunds page, and nothing stays submitted."""
    response = await post(client, body)
    assert response.status == 200 and (await response.json()) == {"status": "refund due"}
    payment = await Payment.get(booking_id=booking.id, method=PaymentMethod.GATEWAY)
    assert payment.status == PaymentStatus.REJECTED and "refunded" in payment.rejection_reason
    refund = await Refund.get(payment_id=payment.id)
    assert (refund.status, refund.amount_paise, refund.reason) == (RefundStatus.PENDING, amount_paise, payment.rejection_reason)
    assert not await Payment.filter(status=PaymentStatus.SUBMITTED).exists()
    assert await AuditLog.filter(entity="payment", entity_id=str(payment.id), action="reject").exists()
    assert await AuditLog.filter(entity="refund", entity_id=str(refund.id), action="create").exists()
    await login(client, await operator())
    page = await (await client.get("/admin/refunds")).text()
    assert f'id="refund-{refund.id}"' in page and booking.reference in page
    return refund


@pytest.mark.parametrize("paid", [2_000_000, 2_520_049, 2_520_051, 5_040_100], ids=["short", "a paisa short", "a paisa over", "twice"])
async def test_a_capture_of_another_amount_never_confirms_and_is_owed_back(client, paid):
    booking = await held_booking(total_paise=2_520_050)
    refund = await refund_due_for(client, booking, captured_event(booking.reference, paid), paid)
    assert "₹25200.50 is due" in refund.reason
    after = await Booking.get(id=booking.id)
    assert (after.status, after.hold_expires_at) == (BookingStatus.HELD, booking.hold_expires_at)  # it can still be paid


async def test_the_traveller_is_told_that_a_refused_capture_will_be_refunded(client, smtp_outbox):
    booking = await held_booking(total_paise=2_520_050)
    assert (await (await post(client, captured_event(booking.reference, 2_000_000))).json()) == {"status": "refund due"}
    [mail] = await smtp_outbox.wait_for(1)
    assert mail["To"] == booking.user.email and booking.reference in mail["Subject"] and "refunded" in mail["Subject"]
    body = mail.get_content()
    assert "Paid online ₹20000.00, but ₹25200.50 is due." in body and "We will pay back ₹20,000" in body


async def test_a_capture_in_another_currency_never_confirms_and_is_owed_back_in_rupees(client):
    booking = await held_booking(total_paise=2_520_050)
    body = captured_event(booking.reference, 2_520_050, currency="USD", base_amount=209_000_000, base_currency="INR")
    refund = await refund_due_for(client, booking, body, 209_000_000)
    assert "USD" in refund.reason
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD


async def test_a_late_capture_whose_seats_were_sold_is_owed_back(client):
    lapsed = await held_booking(seats=2, capacity=2, expires_in=timedelta(minutes=-5))
    await held_booking(departure=lapsed.departure, seats=2, status=BookingStatus.CONFIRMED)
    refund = await refund_due_for(client, lapsed, captured_event(lapsed.reference, lapsed.total_paise), lapsed.total_paise)
    assert "too late" in refund.reason
    assert (await Booking.get(id=lapsed.id)).status == BookingStatus.HELD


async def test_money_captured_for_a_cancelled_booking_is_owed_back(client):
    booking = await held_booking(status=BookingStatus.CANCELLED)
    await refund_due_for(client, booking, captured_event(booking.reference, booking.total_paise), booking.total_paise)
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CANCELLED


async def test_a_capture_settles_a_waiting_utr_as_superseded(client, smtp_outbox):
    booking = await held_booking()
    utr = await submitted_payment(booking, "401234567890")
    response = await post(client, captured_event(booking.reference, booking.total_paise))
    assert (await response.json()) == {"status": "confirmed"}
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CONFIRMED
    utr = await Payment.get(id=utr.id)
    assert utr.status == PaymentStatus.REJECTED and "Superseded" in utr.rejection_reason and "pay_N1a2B3c4D5e6F7" in utr.rejection_reason
    assert await AuditLog.filter(entity="payment", entity_id=str(utr.id), action="superseded").exists()
    assert await Refund.all().count() == 0  # the UTR's money is not known to have arrived
    await login(client, await operator())
    assert "401234567890" not in await (await client.get("/admin/payments")).text()  # nothing left to verify
    [mail] = await smtp_outbox.wait_for(1)
    assert "confirmed" in mail["Subject"].lower()


async def test_a_capture_after_the_utr_was_verified_is_owed_back(client):
    booking = await held_booking(status=BookingStatus.CONFIRMED)
    await Payment.create(
        booking=booking, method=PaymentMethod.UPI_QR, amount_paise=booking.total_paise, status=PaymentStatus.VERIFIED,
        utr="401234567890", submitted_at=NOW, verified_at=NOW,
    )  # fmt: skip
    refund = await refund_due_for(client, booking, captured_event(booking.reference, booking.total_paise), booking.total_paise)
    assert "already confirmed" in refund.reason
    assert (await Payment.get(utr="401234567890")).status == PaymentStatus.VERIFIED


async def test_a_processed_refund_of_a_refused_capture_marks_it_refunded(client):
    booking = await held_booking(total_paise=2_520_050)
    assert (await (await post(client, captured_event(booking.reference, 100_000))).json()) == {"status": "refund due"}
    response = await post(client, refund_event("pay_N1a2B3c4D5e6F7", 100_000), event_id="evt_r1")
    assert (await response.json()) == {"status": "refund paid"}
    assert (await Payment.get(gateway_payment_id="pay_N1a2B3c4D5e6F7")).status == PaymentStatus.REFUNDED
    assert (await Refund.get(booking_id=booking.id)).status == RefundStatus.PAID
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD


async def test_a_processed_refund_marks_the_refund_paid_and_the_booking_refunded(client):
    booking = await held_booking(status=BookingStatus.CANCELLED)
    payment = await Payment.create(
        booking=booking, method=PaymentMethod.GATEWAY, amount_paise=booking.total_paise,
        status=PaymentStatus.VERIFIED, gateway_payment_id="pay_Q9w8E7r6",
    )  # fmt: skip
    refund = await Refund.create(booking=booking, payment=payment, amount_paise=booking.total_paise, reason="cancelled")
    response = await post(client, refund_event("pay_Q9w8E7r6", booking.total_paise), event_id="evt_r1")
    assert (await response.json()) == {"status": "refund paid"}
    refund = await Refund.get(id=refund.id)
    assert (refund.status, refund.reference, refund.paid_at) == (RefundStatus.PAID, "rfnd_R1s2T3u4V5", NOW)
    assert (await Payment.get(id=payment.id)).status == PaymentStatus.REFUNDED
    assert (await Booking.get(id=booking.id)).status == BookingStatus.REFUNDED


async def test_an_event_for_a_booking_we_do_not_know_is_acknowledged(client):
    await traveller()
    response = await post(client, captured_event("YT-UNKNOWN", 100))
    assert response.status == 200 and (await response.json()) == {"status": "unknown booking"}
    assert await Payment.all().count() == 0
