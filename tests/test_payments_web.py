"""Payment pages over HTTP on both databases: the traveller's pay page and UTR form,
the receipt, the operator's queue and refunds."""

import re
from datetime import timedelta

import pytest

from yatri.keys import ClockKey
from yatri.models import AuditLog, Booking, BookingStatus, Payment, PaymentStatus, Refund, RefundStatus, Session as SessionRow

from tests.booking_data import hold, make_departure
from tests.helpers import PASSWORD, csrf_in, login, make_user
from tests.payments_data import NOW, held_booking, operator, submitted_payment, traveller
from tests.test_payments import decode_qr


@pytest.fixture
def app(app):
    app[ClockKey] = lambda: NOW
    return app


async def test_the_pay_page_shows_the_exact_amount_the_qr_and_the_hold_expiry(app, client):
    booking = await held_booking(total_paise=2_520_050)
    await login(client, booking.user)
    response = await client.get(f"/bookings/{booking.reference}/pay")
    assert response.status == 200
    html = await response.text()
    link = f"upi://pay?pa=yatri.demo@okaxis&pn=Yatri%20Demo%20Travels&am=25200.50&cu=INR&tn=Hampta%20Pass%20Trek%20{booking.reference}&tr={booking.reference}"
    assert f'id="upi-link" href="{link}"' in html.replace("&amp;", "&")
    assert '<strong class="amount" id="amount">₹25,200.50</strong>' in html
    assert 'datetime="2026-12-01T10:15:00+00:00"' in html and "15:45, 01 Dec" in html  # IST
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert decode_qr(svg) == [link]
    assert "style=" not in html and "<script>" not in html and "js/countdown.js" in html


async def test_the_pay_page_is_only_for_the_owner(app, client):
    booking = await held_booking()
    assert (await client.get(f"/bookings/{booking.reference}/pay", allow_redirects=False)).status == 302
    await login(client, await traveller("ravi@example.com"))
    assert (await client.get(f"/bookings/{booking.reference}/pay")).status == 404
    assert (await client.get("/bookings/YT-NOSUCH/pay")).status == 404


async def test_sending_a_utr_from_the_page_submits_the_payment(app, client):
    booking = await held_booking()
    token = await login(client, booking.user)
    response = await client.post(
        f"/bookings/{booking.reference}/pay", data={"utr": "401234567890", "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == f"/bookings/{booking.reference}"
    assert (await Booking.get(id=booking.id)).status == BookingStatus.PAYMENT_SUBMITTED
    html = await (await client.get(f"/bookings/{booking.reference}/pay")).text()
    assert "UTR 401234567890" in html and "are checking it" in html and 'name="utr"' not in html


async def test_the_same_utr_sent_again_acts_once(app, client):
    """A tap on Send again after a lost answer: the same answer, one payment, one audit row;
    another UTR for a booking already waiting is still refused."""
    booking = await held_booking()
    token = await login(client, booking.user)
    for _ in range(2):
        response = await client.post(
            f"/bookings/{booking.reference}/pay", data={"utr": "401234567890", "csrf_token": token}, allow_redirects=False
        )
        assert response.status == 303 and response.headers["Location"] == f"/bookings/{booking.reference}"
    assert await Payment.filter(booking_id=booking.id).count() == 1
    assert await AuditLog.filter(entity="booking", entity_id=booking.reference, action="payment_submitted").count() == 1
    other = await client.post(f"/bookings/{booking.reference}/pay", data={"utr": "409999999999", "csrf_token": token})
    assert other.status in (409, 422) and await Payment.filter(booking_id=booking.id).count() == 1


async def test_a_bad_utr_is_shown_next_to_the_field_with_what_was_typed(app, client):
    booking = await held_booking()
    token = await login(client, booking.user)
    response = await client.post(f"/bookings/{booking.reference}/pay", data={"utr": "40123-45678", "csrf_token": token})
    assert response.status == 422
    html = await response.text()
    assert 'id="f-utr-error"' in html and "exactly 12 digits" in html
    assert 'value="40123-45678"' in html
    assert await Payment.all().count() == 0


async def test_a_cancelled_booking_says_it_cannot_be_paid(app, client):
    booking = await held_booking(status=BookingStatus.CANCELLED)
    token = await login(client, booking.user)
    html = await (await client.get(f"/bookings/{booking.reference}/pay")).text()
    assert 'name="utr"' not in html and "upi://" not in html and "This booking was cancelled" in html
    response = await client.post(f"/bookings/{booking.reference}/pay", data={"utr": "401234567890", "csrf_token": token})
    assert response.status == 409
    assert "was cancelled, so it can no longer be paid for" in await response.text()
    assert await Payment.all().count() == 0


async def test_the_operator_verifies_from_the_queue(app, client, smtp_outbox):
    booking = await held_booking()
    payment = await submitted_payment(booking, "401234567890")
    token = await login(client, await operator())
    html = await (await client.get("/admin/payments")).text()
    assert booking.reference in html and "401234567890" in html and "₹25,200.50" in html
    response = await client.post(f"/admin/payments/{payment.id}/verify", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CONFIRMED
    html = await (await client.get("/admin/payments")).text()
    assert "booking confirmed and the traveller emailed" in html and 'id="queue-empty"' in html
    await smtp_outbox.wait_for(1)


async def test_htmx_verify_and_reject_answer_with_the_row(app, client, smtp_outbox):
    first, second = await held_booking(), await held_booking()
    one, two = await submitted_payment(first, "401234567890"), await submitted_payment(second, "401234567891")
    token = await login(client, await operator())
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    response = await client.post(f"/admin/payments/{two.id}/reject", data={"reason": ""}, headers=headers)
    assert response.status == 422
    html = await response.text()
    assert html.startswith(f'<tr id="payment-{two.id}">') and 'id="reason-{}-error"'.format(two.id) in html
    response = await client.post(f"/admin/payments/{two.id}/reject", data={"reason": "Amount short by ₹100"}, headers=headers)
    assert response.status == 200 and "the traveller was told why" in await response.text()
    assert (await Payment.get(id=two.id)).status == PaymentStatus.REJECTED
    response = await client.post(f"/admin/payments/{one.id}/verify", headers=headers)
    assert "booking confirmed" in await response.text()
    response = await client.post(f"/admin/payments/{one.id}/verify", headers=headers)
    assert response.status == 409 and "already verified" in await response.text()


async def test_the_operator_marks_a_refund_paid(app, client):
    booking = await held_booking(status=BookingStatus.CANCELLED)
    refund = await Refund.create(booking=booking, amount_paise=1_260_000, reason="Cancelled 20 days before")
    token = await login(client, await operator())
    html = await (await client.get("/admin/refunds")).text()
    assert booking.reference in html and "₹12,600" in html
    response = await client.post(f"/admin/refunds/{refund.id}/paid", data={"reference": "", "csrf_token": token})
    assert "Enter the bank or UPI reference" in await response.text()
    assert (await Refund.get(id=refund.id)).status == RefundStatus.PENDING
    response = await client.post(f"/admin/refunds/{refund.id}/paid", data={"reference": "UPI 998877", "csrf_token": token})
    assert "marked paid (UPI 998877)" in await response.text()
    assert (await Booking.get(id=booking.id)).status == BookingStatus.REFUNDED


async def test_the_traveller_sees_the_refund_status_on_the_booking_and_pay_pages(app, client):
    booking = await held_booking(status=BookingStatus.CANCELLED)
    await Refund.create(booking=booking, amount_paise=1_260_000, reason="cancelled")
    await Refund.create(booking=booking, amount_paise=500, reason="fee", status=RefundStatus.PAID, reference="R-77", paid_at=NOW)
    await login(client, booking.user)
    for page in (f"/bookings/{booking.reference}", f"/bookings/{booking.reference}/pay"):
        html = await (await client.get(page)).text()
        assert "₹12,600: being processed" in html, page
        assert "₹5: paid on 01 Dec 2026, reference R-77" in html, page


async def test_the_receipt_is_for_confirmed_bookings_of_the_owner_or_an_admin(app, client):
    booking = await held_booking(status=BookingStatus.CONFIRMED, seats=2, total_paise=2_520_000)
    await Booking.filter(id=booking.id).update(unit_price_paise=1_200_000, subtotal_paise=2_400_000, gst_paise=120_000, gst_percent=5)
    await Payment.create(booking=booking, method="upi_qr", amount_paise=2_520_000, status="verified", utr="401234567890", verified_at=NOW)
    await login(client, booking.user)
    response = await client.get(f"/bookings/{booking.reference}/receipt")
    assert response.status == 200
    html = await response.text()
    assert "2 × ₹12,000" in html and "GST at 5%" in html and '<td id="receipt-gst">₹1,200</td>' in html
    assert '<td id="receipt-total">₹25,200</td>' in html and "UTR <strong>401234567890</strong>" in html
    assert "Traveller 1, 31" in html and "Traveller 2, 32" in html and 'media="print"' in html

    await client.post("/logout", data={"csrf_token": csrf_in(html)})
    await login(client, await traveller("ravi@example.com"))
    assert (await client.get(f"/bookings/{booking.reference}/receipt")).status == 404
    await client.post("/logout", data={"csrf_token": csrf_in(await (await client.get("/")).text())})
    await login(client, await operator())
    assert (await client.get(f"/bookings/{booking.reference}/receipt")).status == 200


async def test_no_receipt_before_confirmation(app, client):
    booking = await held_booking()
    await login(client, booking.user)
    response = await client.get(f"/bookings/{booking.reference}/receipt")
    assert response.status == 409 and "once the booking is confirmed" in await response.text()


async def test_a_refused_reason_without_javascript_comes_back_next_to_the_field(app, client):
    booking = await held_booking()
    payment = await submitted_payment(booking, "401234567890")
    token = await login(client, await operator())
    typed = "Short by ₹100 " * 30  # over 300 characters
    response = await client.post(f"/admin/payments/{payment.id}/reject", data={"reason": typed, "csrf_token": token})
    assert response.status == 422
    html = await response.text()
    assert f'id="reason-{payment.id}-error"' in html and "under 300 characters" in html
    assert f'value="{typed}"' in html
    assert (await Payment.get(id=payment.id)).status == PaymentStatus.SUBMITTED


async def test_htmx_gets_the_pay_page_hold_alone(client):
    """What the pay page's countdown asks for at zero: the hold paragraph, now lapsed."""
    user = await make_user()
    booking = await hold(user, await make_departure(), now=NOW - timedelta(minutes=16))
    await login(client, user)
    live = await (await client.get(f"/bookings/{booking.reference}/pay", headers={"HX-Request": "true"})).text()
    assert live.strip().startswith('<p class="flash flash-warning" id="hold"') and "<html" not in live
    assert "The hold on your seats has lapsed. You can still pay" in live


async def test_a_pay_form_with_an_expired_token_comes_back_with_its_utr(app, client):
    """The CSRF token no longer matches (another tab logged in again, say): nothing is sent,
    the same form comes back with the UTR typed, a fresh token and a message."""
    booking = await held_booking()
    await login(client, booking.user)
    refused = await client.post(f"/bookings/{booking.reference}/pay", data={"utr": "4012 3456 7890", "csrf_token": "stale"})
    assert refused.status == 403
    html = await refused.text()
    assert "This form has expired, so nothing was sent. We kept what you typed" in html
    assert 'name="utr" type="text" value="4012 3456 7890"' in html
    fresh = csrf_in(html)
    assert fresh != "stale"
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD
    sent = await client.post(
        f"/bookings/{booking.reference}/pay", data={"utr": "4012 3456 7890", "csrf_token": fresh}, allow_redirects=False
    )
    assert sent.status == 303
    assert (await Booking.get(id=booking.id)).status == BookingStatus.PAYMENT_SUBMITTED
    again = await (await client.get(f"/bookings/{booking.reference}/pay")).text()
    assert "We kept what you typed" not in again  # shown once


async def test_after_the_session_ended_logging_in_again_returns_to_the_pay_form_with_its_utr(app, client):
    booking = await held_booking()
    token = await login(client, booking.user)
    await SessionRow.all().delete()  # the session ended (idle too long, or logged out elsewhere)
    refused = await client.post(f"/bookings/{booking.reference}/pay", data={"utr": "401234567890", "csrf_token": token})
    assert refused.status == 403
    html = await refused.text()
    assert "your session ended, so nothing was sent. Log in again" in html
    assert f'href="/login?next=/bookings/{booking.reference}/pay"' in html
    login_page = await (await client.get(f"/login?next=/bookings/{booking.reference}/pay")).text()
    logged_in = await client.post(
        "/login",
        data={"email": booking.user.email, "password": PASSWORD, "next": f"/bookings/{booking.reference}/pay", "csrf_token": csrf_in(login_page)},
        allow_redirects=False,
    )  # fmt: skip
    assert logged_in.status == 303 and logged_in.headers["Location"] == f"/bookings/{booking.reference}/pay"
    form = await (await client.get(f"/bookings/{booking.reference}/pay")).text()
    assert 'name="utr" type="text" value="401234567890"' in form
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD  # nothing was sent yet


async def test_an_htmx_post_after_the_session_ended_keeps_its_values_for_the_page_after_login(client):
    """An htmx form (the operator's reject reason) sent after the session ended: nothing is
    done, the form stays as typed (the answer goes to #flash), and logging in again through
    the message's link returns to the page with the values kept for it."""
    booking = await held_booking()
    payment = await submitted_payment(booking, "401234567890")
    ops = await operator()
    token = await login(client, ops)
    await SessionRow.all().delete()
    refused = await client.post(
        f"/admin/payments/{payment.id}/reject", data={"reason": "No credit yet", "csrf_token": token},
        headers={"HX-Request": "true", "HX-Current-URL": f"{client.make_url('/admin/payments')}", "X-CSRF-Token": token},
    )  # fmt: skip
    assert refused.status == 403 and refused.headers["HX-Retarget"] == "#flash"
    html = await refused.text()
    assert "your session ended, so nothing was sent" in html and 'href="/login?next=/admin/payments"' in html
    assert (await Payment.get(id=payment.id)).status == PaymentStatus.SUBMITTED
    login_page = await (await client.get("/login?next=/admin/payments")).text()
    logged_in = await client.post(
        "/login", data={"email": ops.email, "password": PASSWORD, "next": "/admin/payments", "csrf_token": csrf_in(login_page)},
        allow_redirects=False,
    )  # fmt: skip
    assert logged_in.headers["Location"] == "/admin/payments"
    session = await SessionRow.all().first()
    assert session is not None and "No credit yet" in str(session.data)  # kept for the page's first full render
    page = await client.get("/admin/payments")
    assert page.status == 200
    assert "No credit yet" not in str((await SessionRow.all().first()).data)  # handed to that page once
