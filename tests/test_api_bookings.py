"""Booking over the JSON API: the same booking service as the pages, owners only."""

from yatri.models import AuditLog, Booking, BookingStatus, Payment, PaymentMethod, PaymentStatus, Refund

from tests.api_helpers import bearer_for, is_problem
from tests.booking_data import make_departure
from tests.helpers import make_user

LEAD = {
    "full_name": "Asha Rao", "age": 31, "gender": "female", "phone": "+91 98765 43210", "email": "asha@example.com",
    "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "98123 45678",
}  # fmt: skip
COMPANION = {"full_name": "Meera Iyer", "age": 29}


async def book(client, auth, departure_id, travellers=(LEAD, COMPANION), key=None):
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return await client.post("/api/v1/bookings", json={"departure_id": departure_id, "travellers": list(travellers)}, headers=headers)


async def test_book_then_read_and_list_the_booking(client):
    user = await make_user()
    departure = await make_departure(price_rupees=12_000)
    auth = await bearer_for(client)
    response = await book(client, auth, departure.id, key="8d1c5a2e-retry-safe")
    assert response.status == 201, await response.text()
    body = await response.json()
    reference = body["reference"]
    assert response.headers["Location"] == f"/api/v1/bookings/{reference}"
    assert (body["status"], body["seats"], body["subtotal_paise"], body["total_paise"]) == ("held", 2, 2_400_000, 2_520_000)
    assert [t["full_name"] for t in body["travellers"]] == ["Asha Rao", "Meera Iyer"]
    assert body["travellers"][0]["phone"] == "+919876543210" and body["hold_expires_at"]

    # The same Idempotency-Key again (a retry after a lost answer): the same booking, no second one.
    again = await book(client, auth, departure.id, key="8d1c5a2e-retry-safe")
    assert again.status == 201 and (await again.json())["reference"] == reference
    assert await Booking.filter(user_id=user.id).count() == 1
    assert await AuditLog.filter(entity="booking", entity_id=reference, action="held").count() == 1

    detail = await client.get(f"/api/v1/bookings/{reference.lower()}", headers=auth)
    assert detail.status == 200 and (await detail.json())["reference"] == reference
    listing = await (await client.get("/api/v1/bookings", headers=auth)).json()
    assert [b["reference"] for b in listing["upcoming"]] == [reference] and listing["ended"] == []


async def test_idempotency_keys_of_two_users_do_not_collide(client):
    await make_user()
    await make_user("ravi@example.com", name="Ravi")
    departure = await make_departure()
    first = await book(client, await bearer_for(client), departure.id, key="1")
    second = await book(client, await bearer_for(client, "ravi@example.com"), departure.id, key="1")
    assert first.status == second.status == 201
    assert (await first.json())["reference"] != (await second.json())["reference"]


async def test_another_users_booking_is_404(client):
    await make_user()
    await make_user("ravi@example.com", name="Ravi")
    departure = await make_departure()
    reference = (await (await book(client, await bearer_for(client), departure.id)).json())["reference"]
    other = await bearer_for(client, "ravi@example.com")
    assert is_problem(await client.get(f"/api/v1/bookings/{reference}", headers=other), 404)
    assert is_problem(await client.post(f"/api/v1/bookings/{reference}/cancel", headers=other), 404)
    assert (await Booking.get(reference=reference)).status == BookingStatus.HELD
    assert (await (await client.get("/api/v1/bookings", headers=other)).json())["upcoming"] == []


async def test_traveller_problems_are_named_by_their_place_in_the_list(client):
    await make_user()
    departure = await make_departure()
    auth = await bearer_for(client)
    response = await book(client, auth, departure.id, [{**LEAD, "phone": "call me"}, {"full_name": "M", "age": 0}])
    assert is_problem(response, 422)
    fields = {e["field"] for e in (await response.json())["errors"]}
    assert fields == {"travellers[0].phone", "travellers[1].full_name", "travellers[1].age"}
    empty = await client.post("/api/v1/bookings", json={"departure_id": departure.id, "travellers": []}, headers=auth)
    assert [e["field"] for e in (await empty.json())["errors"]] == ["travellers"]
    assert await Booking.all().count() == 0


async def test_more_travellers_than_seats_left_is_409(client):
    await make_user()
    departure = await make_departure(capacity=1)
    response = await book(client, await bearer_for(client), departure.id)
    assert is_problem(response, 409)
    assert "Only 1 seat is left" in (await response.json())["detail"]
    missing = await book(client, await bearer_for(client), departure.id + 999)
    assert is_problem(missing, 404)


async def test_cancel_returns_the_refund_by_the_policy(client):
    await make_user()
    departure = await make_departure(days_ahead=40)  # 30+ days before: 90% back
    auth = await bearer_for(client)
    held = await (await book(client, auth, departure.id)).json()
    booking = await Booking.get(reference=held["reference"])
    await Payment.create(booking=booking, method=PaymentMethod.UPI_QR, amount_paise=booking.total_paise, status=PaymentStatus.VERIFIED)
    booking.status = BookingStatus.CONFIRMED
    await booking.save()

    quote = (await (await client.get(f"/api/v1/bookings/{booking.reference}", headers=auth)).json())["refund_quote"]
    assert quote["days_before"] in (39, 40)  # counted from today in Asia/Kolkata
    assert (quote["percent"], quote["paid_paise"], quote["amount_paise"]) == (90, 2_520_000, 2_268_000)
    response = await client.post(f"/api/v1/bookings/{booking.reference}/cancel", headers=auth)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["status"] == "cancelled" and body["refund_quote"] is None
    assert body["refunds"] == [{"amount_paise": 2_268_000, "status": "pending", "reason": "Cancelled: 90% refund by the cancellation policy"}]
    assert await Refund.filter(booking_id=booking.id).count() == 1
    twice = await client.post(f"/api/v1/bookings/{booking.reference}/cancel", headers=auth)
    assert is_problem(twice, 409)


async def test_booking_says_what_may_be_done_now(client):
    await make_user()
    departure = await make_departure(days_ahead=40)
    auth = await bearer_for(client)
    held = await (await book(client, auth, departure.id)).json()
    detail = await (await client.get(f"/api/v1/bookings/{held['reference']}", headers=auth)).json()
    assert detail["actions"] == {"pay": True, "cancel": True, "edit_travellers": True}
    cancelled = await (await client.post(f"/api/v1/bookings/{held['reference']}/cancel", headers=auth)).json()
    assert cancelled["actions"] == {"pay": False, "cancel": False, "edit_travellers": False}
