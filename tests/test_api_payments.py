"""Paying over the JSON API: the UPI link and QR code, then the UTR, through services/payments.py."""

from yatri.models import AuditLog, BookingStatus, Payment, PaymentStatus

from tests.api_helpers import bearer_for, is_problem
from tests.booking_data import make_departure
from tests.helpers import make_user
from tests.test_api_bookings import book


async def held_booking(client) -> tuple[dict, str]:
    await make_user()
    departure = await make_departure(price_rupees=12_000)
    auth = await bearer_for(client)
    body = await (await book(client, auth, departure.id)).json()
    return auth, body["reference"]


async def test_the_payment_link_and_qr_code_of_a_booking(client):
    auth, reference = await held_booking(client)
    response = await client.get(f"/api/v1/bookings/{reference}/payment", headers=auth)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["payable"] is True and body["amount_paise"] == 2_520_000
    assert body["upi_link"].startswith("upi://pay?pa=yatri.demo@okaxis&pn=Yatri%20Demo%20Travels&am=25200.00&cu=INR")
    assert f"tr={reference}" in body["upi_link"]
    assert "<svg" in body["qr_svg"] and "<path" in body["qr_svg"]


async def test_sending_the_utr_submits_the_payment(client):
    auth, reference = await held_booking(client)
    bad = await client.post(f"/api/v1/bookings/{reference}/payment", json={"utr": "12345"}, headers=auth)
    assert is_problem(bad, 422) and (await bad.json())["errors"][0]["field"] == "utr"

    response = await client.post(f"/api/v1/bookings/{reference}/payment", json={"utr": "4321 8765 2109"}, headers=auth)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert (body["status"], body["payable"]) == (BookingStatus.PAYMENT_SUBMITTED, False)
    assert [(p["utr"], p["status"], p["amount_paise"]) for p in body["payments"]] == [("432187652109", "submitted", 2_520_000)]
    payment = await Payment.get(utr="432187652109")
    assert payment.status == PaymentStatus.SUBMITTED
    assert await AuditLog.filter(entity="payment", entity_id=str(payment.id), action="submit").exists()

    again = await client.post(f"/api/v1/bookings/{reference}/payment", json={"utr": "111122223333"}, headers=auth)
    assert is_problem(again, 409) and "already waiting" in (await again.json())["detail"]


async def test_someone_elses_booking_cannot_be_paid_or_read(client):
    auth, reference = await held_booking(client)
    await make_user("ravi@example.com", name="Ravi")
    other = await bearer_for(client, "ravi@example.com")
    assert is_problem(await client.get(f"/api/v1/bookings/{reference}/payment", headers=other), 404)
    sent = await client.post(f"/api/v1/bookings/{reference}/payment", json={"utr": "432187652109"}, headers=other)
    assert is_problem(sent, 404)
    assert await Payment.all().count() == 0
