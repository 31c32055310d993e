"""Payment rules (yatri.services.payments) on both databases: the UPI link and QR code,
UTR submission, the operator's verification and rejection, refunds."""

import asyncio
import io
from datetime import timedelta

import cairosvg
import pytest
import zxingcpp
from PIL import Image

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.keys import NotifierKey
from yatri.models import AuditLog, Booking, BookingStatus, Departure, Payment, PaymentStatus, Refund, RefundStatus
from yatri.services import money, payments, refunds, upi

from tests.payments_data import NOW, TODAY, held_booking, operator, submitted_payment, traveller

LINK = (
    "upi://pay?pa=yatri.demo@okaxis&pn=Yatri%20Demo%20Travels&am=25200.50&cu=INR"
    "&tn=Hampta%20Pass%20Trek%20YT-7K3Q9M&tr=YT-7K3Q9M"
)


def decode_qr(svg: str) -> list[str]:
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=480, background_color="white")
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_the_upi_link_is_exact_to_the_paisa_and_url_encoded():
    assert upi.upi_link("yatri.demo@okaxis", "Yatri Demo Travels", 2_520_050, "YT-7K3Q9M", "Hampta Pass Trek") == LINK
    assert money.amount_text(5) == "0.05"
    assert money.amount_text(100) == "1.00"
    assert money.amount_text(1_234_567_891) == "12345678.91"
    odd = upi.upi_link("a.b@okhdfc", "Ravi & Sons", 100, "YT-2222AA", "Spiti: 10 days & more")
    assert "pn=Ravi%20%26%20Sons" in odd and "tn=Spiti%3A%2010%20days%20%26%20more%20YT-2222AA" in odd


def test_a_long_trip_title_is_shortened_but_the_reference_survives():
    note = upi.upi_note("The Great Himalayan Circuit through Lahaul, Spiti and Kinnaur", "YT-7K3Q9M")
    assert len(note) <= upi.NOTE_LENGTH and note.endswith(" YT-7K3Q9M")


def test_the_qr_code_decodes_to_the_deep_link():
    svg = upi.qr_svg(LINK)
    assert decode_qr(svg) == [LINK]
    assert svg.startswith("<svg") and "style=" not in svg and "<script" not in svg
    assert len(svg) < 25_000


async def test_submitting_a_utr_reserves_the_seats_for_the_verification_window(client):
    booking = await held_booking()
    payment = await upi.submit_utr(booking.reference, " 4012 3456 7890 ", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    assert (payment.status, payment.utr, payment.amount_paise) == (PaymentStatus.SUBMITTED, "401234567890", 2_520_050)
    booking = await Booking.get(id=booking.id)
    assert booking.status == BookingStatus.PAYMENT_SUBMITTED
    assert booking.hold_expires_at == NOW + timedelta(hours=48)
    assert booking.version == 2
    entries = await AuditLog.all().values_list("entity", "action", "from_state", "to_state")
    assert entries == [("payment", "submit", None, "submitted"), ("booking", "payment_submitted", "held", "payment_submitted")]


@pytest.mark.parametrize("utr", ["", "12345678901", "1234567890123", "12345678901a", "UTR123456789", "१२३४५६७८९०१२"])
async def test_a_utr_that_is_not_12_digits_is_refused_and_changes_nothing(client, utr):
    booking = await held_booking()
    with pytest.raises(ValidationError) as refused:
        await upi.submit_utr(booking.reference, utr, user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    assert "exactly 12 digits" in refused.value.errors["utr"]
    assert await Payment.all().count() == 0
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD


async def test_a_utr_used_on_another_payment_is_refused(client):
    first, second = await held_booking(), await held_booking()
    await upi.submit_utr(first.reference, "401234567890", user=first.user, now=NOW, today=TODAY, verify_hours=48)
    with pytest.raises(ValidationError) as refused:
        await upi.submit_utr(second.reference, "401234567890", user=second.user, now=NOW, today=TODAY, verify_hours=48)
    assert "already been used" in refused.value.errors["utr"]
    assert (await Booking.get(id=second.id)).status == BookingStatus.HELD
    assert await Payment.filter(booking_id=second.id).count() == 0


async def test_only_the_owner_can_submit_a_utr(client):
    booking = await held_booking()
    stranger = await traveller("ravi@example.com")
    with pytest.raises(NotFound):
        await upi.submit_utr(booking.reference, "401234567890", user=stranger, now=NOW, today=TODAY, verify_hours=48)
    assert await Payment.all().count() == 0


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (BookingStatus.CANCELLED, "was cancelled"),
        (BookingStatus.REFUNDED, "cancelled and refunded"),
        (BookingStatus.CONFIRMED, "already paid"),
        (BookingStatus.PAYMENT_SUBMITTED, "already waiting"),
    ],
)
async def test_a_booking_that_cannot_be_paid_refuses_a_utr(client, status, message):
    booking = await held_booking(status=status)
    with pytest.raises(Conflict) as refused:
        await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    assert message in refused.value.detail
    assert await Payment.all().count() == 0
    assert (await Booking.get(id=booking.id)).status == status


async def test_a_late_payment_takes_the_seats_back_when_they_are_free(client):
    booking = await held_booking(status=BookingStatus.EXPIRED, expires_in=-timedelta(hours=1), capacity=4)
    await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    booking = await Booking.get(id=booking.id)
    assert booking.status == BookingStatus.PAYMENT_SUBMITTED and booking.hold_expires_at == NOW + timedelta(hours=48)


@pytest.mark.parametrize("status", [BookingStatus.EXPIRED, BookingStatus.HELD])
async def test_a_late_payment_is_refused_when_the_seats_are_gone(client, status):
    booking = await held_booking(status=status, expires_in=-timedelta(minutes=1), capacity=3, seats=2)
    await held_booking(departure=booking.departure, seats=2, status=BookingStatus.CONFIRMED, user=await traveller("b@example.com"))
    with pytest.raises(Conflict) as refused:
        await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    assert "seats have been sold: 1 of the 2 seats are free" in refused.value.detail
    assert await Payment.filter(booking_id=booking.id).count() == 0
    assert (await Booking.get(id=booking.id)).status == status


async def test_verifying_confirms_the_booking_and_mails_the_traveller(app, client, smtp_outbox):
    booking = await held_booking()
    payment = await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    ops = await operator()
    await payments.verify_payment(payment.id, actor=ops, now=NOW + timedelta(hours=1), today=TODAY, notifier=app[NotifierKey])
    payment = await Payment.get(id=payment.id)
    assert (payment.status, payment.verified_by_id, payment.verified_at) == (PaymentStatus.VERIFIED, ops.id, NOW + timedelta(hours=1))
    booking = await Booking.get(id=booking.id)
    assert booking.status == BookingStatus.CONFIRMED and booking.hold_expires_at is None
    assert await AuditLog.filter(entity="payment", action="verify", actor_id=ops.id).count() == 1
    assert await AuditLog.filter(entity="booking", to_state="confirmed", actor_id=ops.id).count() == 1
    [mail] = await smtp_outbox.wait_for(1)
    assert mail["To"] == "asha@example.com" and booking.reference in mail["Subject"]
    with pytest.raises(Conflict, match="already verified"):
        await payments.verify_payment(payment.id, actor=ops, now=NOW, today=TODAY, notifier=app[NotifierKey])
    assert await AuditLog.filter(entity="payment", action="verify").count() == 1


async def test_verifying_a_payment_whose_booking_lapsed_checks_the_seats(app, client):
    booking = await held_booking(capacity=2, seats=2)
    payment = await submitted_payment(booking, "401234567890")
    await Booking.filter(id=booking.id).update(status=BookingStatus.EXPIRED, hold_expires_at=NOW - timedelta(hours=1))
    other = await held_booking(departure=booking.departure, seats=1, status=BookingStatus.CONFIRMED, user=await traveller("b@example.com"))
    with pytest.raises(Conflict, match="seats have been sold"):
        await payments.verify_payment(payment.id, actor=await operator(), now=NOW, today=TODAY, notifier=app[NotifierKey])
    assert (await Payment.get(id=payment.id)).status == PaymentStatus.SUBMITTED
    await Booking.filter(id=other.id).update(status=BookingStatus.CANCELLED)
    await payments.verify_payment(payment.id, actor=await operator(), now=NOW, today=TODAY, notifier=app[NotifierKey])
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CONFIRMED
    moves = await AuditLog.filter(entity="booking").values_list("from_state", "to_state")
    assert moves == [("expired", "payment_submitted"), ("payment_submitted", "confirmed")]


async def test_rejecting_needs_a_reason_and_lets_the_traveller_pay_again(app, client, smtp_outbox):
    booking = await held_booking()
    payment = await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    ops = await operator()
    with pytest.raises(ValidationError) as refused:
        await payments.reject_payment(payment.id, "   ", actor=ops, now=NOW, hold_minutes=15, notifier=app[NotifierKey])
    assert "why" in refused.value.errors["reason"]
    assert (await Payment.get(id=payment.id)).status == PaymentStatus.SUBMITTED

    await payments.reject_payment(payment.id, "No credit with this UTR", actor=ops, now=NOW, hold_minutes=15, notifier=app[NotifierKey])
    payment = await Payment.get(id=payment.id)
    assert (payment.status, payment.rejection_reason) == (PaymentStatus.REJECTED, "No credit with this UTR")
    booking = await Booking.get(id=booking.id)
    assert booking.status == BookingStatus.PENDING_PAYMENT and booking.hold_expires_at == NOW + timedelta(minutes=15)
    [mail] = await smtp_outbox.wait_for(1)
    assert "No credit with this UTR" in mail.get_content()
    assert f"/bookings/{booking.reference}/pay" in mail.get_content()

    # The traveller may send the same UTR again (the bank was slow) or a new one.
    again = await upi.submit_utr(booking.reference, "401234567890", user=await traveller(), now=NOW, today=TODAY, verify_hours=48)
    assert again.id == payment.id and again.status == PaymentStatus.SUBMITTED and again.rejection_reason is None
    assert (await Booking.get(id=booking.id)).status == BookingStatus.PAYMENT_SUBMITTED


async def test_marking_the_last_refund_paid_moves_a_cancelled_booking_to_refunded(client):
    booking = await held_booking(status=BookingStatus.CANCELLED)
    first = await Refund.create(booking=booking, amount_paise=100_000, reason="cancelled")
    second = await Refund.create(booking=booking, amount_paise=50_000, reason="cancelled")
    ops = await operator()
    with pytest.raises(ValidationError):
        await refunds.mark_refund_paid(first.id, " ", actor=ops, now=NOW)
    await refunds.mark_refund_paid(first.id, "UPI-REF-1", actor=ops, now=NOW)
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CANCELLED
    with pytest.raises(Conflict, match="already paid"):
        await refunds.mark_refund_paid(first.id, "UPI-REF-9", actor=ops, now=NOW)
    await refunds.mark_refund_paid(second.id, "UPI-REF-2", actor=ops, now=NOW)
    refund = await Refund.get(id=second.id)
    assert (refund.status, refund.reference, refund.paid_at) == (RefundStatus.PAID, "UPI-REF-2", NOW)
    assert (await Booking.get(id=booking.id)).status == BookingStatus.REFUNDED
    assert await AuditLog.filter(entity="refund", action="paid").count() == 2
    assert await AuditLog.filter(entity="booking", from_state="cancelled", to_state="refunded").count() == 1


async def test_two_operators_verifying_at_once_confirm_once(app, client):
    booking = await held_booking()
    payment = await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    ops = await operator()
    results = await asyncio.gather(
        *(payments.verify_payment(payment.id, actor=ops, now=NOW, today=TODAY, notifier=app[NotifierKey]) for _ in range(2)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Payment"]
    assert await AuditLog.filter(entity="booking", to_state="confirmed").count() == 1


async def test_the_same_utr_sent_for_two_bookings_at_once_is_taken_once(client):
    first, second = await held_booking(), await held_booking()
    results = await asyncio.gather(
        *(upi.submit_utr(b.reference, "401234567890", user=b.user, now=NOW, today=TODAY, verify_hours=48) for b in (first, second)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Payment", "ValidationError"]
    assert await Payment.filter(utr="401234567890").count() == 1
    statuses = sorted(await Booking.filter(id__in=[first.id, second.id]).values_list("status", flat=True))
    assert statuses == [BookingStatus.HELD, BookingStatus.PAYMENT_SUBMITTED]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"starts_on": TODAY}, "already started"),
        ({"sales_closed": True}, "Booking for this departure has closed"),
        ({"cancelled_at": NOW}, "departure was cancelled"),
    ],
)
async def test_a_late_payment_is_refused_when_the_departure_no_longer_sells(client, change, message):
    booking = await held_booking(status=BookingStatus.EXPIRED, expires_in=-timedelta(hours=1))
    await Departure.filter(id=booking.departure_id).update(**change)
    with pytest.raises(Conflict, match=message):
        await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=TODAY, verify_hours=48)
    assert await Payment.all().count() == 0
