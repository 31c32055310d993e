"""/admin/bookings: filters, the detail page, manual confirm, cancel with the policy's or
a full refund; the traveller manifest CSV of a departure."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from tests.admin_data import make_booking, make_departure, make_trip
from tests.helpers import login, make_user
from yatri.models import AuditLog, Booking, BookingStatus, Payment, Refund, Role
from yatri.services import audit
from yatri.services.admin_bookings import csv_cell

NOW = datetime.now(UTC)
TODAY = NOW.date()
SOON = NOW + timedelta(hours=6)  # a hold still live however long the test run takes
POLICY = [{"min_days": 30, "percent": 90}, {"min_days": 15, "percent": 50}, {"min_days": 0, "percent": 0}]


def listed(html: str) -> set[str]:
    return set(re.findall(r'<tr id="booking-(YT-\w+)">', html))


async def signed_in_admin(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    return admin, await login(client, admin)


async def two_trips():
    hampta = await make_trip()
    await hampta.__class__.filter(id=hampta.id).update(cancellation_policy=POLICY)
    kedar = await make_trip(slug="kedarkantha", title="Kedarkantha")
    return hampta, kedar


async def test_bookings_are_filtered_by_trip_departure_status_and_date(client):
    await signed_in_admin(client)
    hampta, kedar = await two_trips()
    early = await make_departure(hampta, TODAY + timedelta(days=20))
    late = await make_departure(hampta, TODAY + timedelta(days=50))
    other = await make_departure(kedar, TODAY + timedelta(days=20))
    asha = await make_user("asha@example.com", name="Asha Rao")
    a = await make_booking(early, asha)
    b = await make_booking(late, asha, status=BookingStatus.HELD, hold_expires_at=SOON)
    c = await make_booking(other, asha, status=BookingStatus.CANCELLED, created_at=NOW - timedelta(days=10))
    get = lambda **params: client.get("/admin/bookings", params=params)  # noqa: E731

    assert listed(await (await get()).text()) == {a.reference, b.reference, c.reference}
    assert listed(await (await get(trip=str(hampta.id))).text()) == {a.reference, b.reference}
    by_departure = await (await get(trip=str(hampta.id), departure=str(late.id))).text()
    assert listed(by_departure) == {b.reference} and f"/admin/departures/{late.id}/manifest.csv" in by_departure
    assert listed(await (await get(status="cancelled")).text()) == {c.reference}
    since = (NOW - timedelta(days=3)).date().isoformat()
    assert listed(await (await get(**{"from": since})).text()) == {a.reference, b.reference}
    assert listed(await (await get(to=(NOW - timedelta(days=5)).date().isoformat())).text()) == {c.reference}

    bad = await (await get(status="lost", **{"from": "soon"})).text()
    assert "Pick a status from the list" in bad and "Enter the first day as a date" in bad
    assert listed(bad) == {a.reference, b.reference, c.reference}


async def test_the_booking_page_shows_travellers_amounts_payments_refunds_and_timeline(client):
    admin, _ = await signed_in_admin(client)
    hampta, _ = await two_trips()
    departure = await make_departure(hampta, TODAY + timedelta(days=40))
    asha = await make_user("asha@example.com", name="Asha Rao")
    booking = await make_booking(departure, asha, seats=2, total_paise=2_520_000, travellers=[
        {"full_name": "Asha Rao", "age": 31, "phone": "+919876543210", "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "+919812345678"},
        {"full_name": "Meera Iyer", "age": 29},
    ])  # fmt: skip
    payment = await Payment.create(booking=booking, method="upi_qr", amount_paise=2_520_000, status="verified", utr="123456789012", verified_by=admin)
    await audit.record("booking", booking.reference, "payment_submitted", "held", "payment_submitted", actor=asha)
    await audit.record("payment", payment.id, "verified", "submitted", "verified", actor=admin)

    html = await (await client.get(f"/admin/bookings/{booking.reference}")).text()
    assert "Asha Rao" in html and "Meera Iyer" in html and "Ravi Rao · +919812345678" in html
    assert "₹25,200" in html and '<td class="paid">₹25,200</td>' in html
    assert "123456789012" in html and "Verified by Priya Ops" in html
    timeline = re.search(r'<ol class="rows" id="timeline">.*?</ol>', html, re.S).group(0)
    assert "booking payment submitted" in timeline and "payment verified" in timeline
    # 40 days before departure: the policy gives 90 % back.
    assert '<strong id="policy-refund">₹22,680</strong>' in html
    assert (await client.get("/admin/bookings/YT-NOPE99")).status == 404


async def test_an_operator_confirms_a_booking_by_hand(client, smtp_outbox):
    admin, token = await signed_in_admin(client)
    hampta, _ = await two_trips()
    departure = await make_departure(hampta, TODAY + timedelta(days=40))
    booking = await make_booking(departure, await make_user("asha@example.com"), status=BookingStatus.PENDING_PAYMENT, hold_expires_at=SOON)

    response = await client.post(f"/admin/bookings/{booking.reference}/confirm", data={"note": "Paid in cash at the office", "csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert "is confirmed" in await (await client.get(response.headers["Location"])).text()
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CONFIRMED
    row = await AuditLog.get(entity="booking", entity_id=booking.reference, action="confirmed_manually")
    assert row.actor_id == admin.id and row.data["note"] == "Paid in cash at the office"
    mail = (await smtp_outbox.wait_for(1))[0]
    assert mail["To"] == "asha@example.com" and booking.reference in mail["Subject"]

    again = await client.post(f"/admin/bookings/{booking.reference}/confirm", data={"csrf_token": token})
    assert again.status == 409 and "cannot be confirmed now" in await again.text()


async def test_cancelling_a_booking_refunds_by_the_policy_or_in_full(client, smtp_outbox):
    _, token = await signed_in_admin(client)
    hampta, _ = await two_trips()
    departure = await make_departure(hampta, TODAY + timedelta(days=20))  # 15-29 days: 50 %
    asha = await make_user("asha@example.com")
    by_policy = await make_booking(departure, asha, total_paise=1_000_000)
    in_full = await make_booking(departure, asha, total_paise=1_000_000)
    for n, booking in enumerate((by_policy, in_full)):
        await Payment.create(booking=booking, method="upi_qr", amount_paise=1_000_000, status="verified", utr=f"99988877766{n}")

    response = await client.post(f"/admin/bookings/{by_policy.reference}/cancel", data={"refund": "policy", "csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    response = await client.post(f"/admin/bookings/{in_full.reference}/cancel", data={"refund": "full", "reason": "Guide unwell", "csrf_token": token}, allow_redirects=False)
    assert response.status == 303

    refunds = {r.booking_id: r for r in await Refund.all()}
    assert refunds[by_policy.id].amount_paise == 500_000
    assert refunds[in_full.id].amount_paise == 1_000_000 and refunds[in_full.id].reason == "Guide unwell"
    assert {b.status for b in await Booking.filter(id__in=[by_policy.id, in_full.id])} == {BookingStatus.CANCELLED}
    await smtp_outbox.wait_for(2)
    page = await (await client.get(f"/admin/bookings/{in_full.reference}")).text()
    assert "Guide unwell" in page and "Cancel " + in_full.reference not in page


async def test_the_manifest_lists_the_travellers_of_confirmed_and_held_bookings(client):
    _, _ = await signed_in_admin(client)
    hampta, _ = await two_trips()
    departure = await make_departure(hampta, TODAY + timedelta(days=30))
    asha = await make_user("asha@example.com")
    paid = await make_booking(departure, asha, seats=2, total_paise=2_000_000, travellers=[
        {"full_name": "Asha Rao", "age": 31, "gender": "female", "phone": "+919876543210", "email": "asha@example.com",
         "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "+919812345678"},
        {"full_name": "=HYPERLINK(\"http://evil\")", "age": 29},
    ])  # fmt: skip
    await Payment.create(booking=paid, method="upi_qr", amount_paise=2_000_000, status="verified", utr="123456789012")
    held = await make_booking(departure, asha, status=BookingStatus.HELD, hold_expires_at=SOON, total_paise=1_000_000,
                              travellers=[{"full_name": "@Kiran", "age": 45, "phone": "-5"}])  # fmt: skip
    await make_booking(departure, asha, status=BookingStatus.CANCELLED, travellers=[{"full_name": "Gone Person", "age": 50}])
    await make_booking(departure, asha, status=BookingStatus.HELD, hold_expires_at=NOW - timedelta(minutes=1), travellers=[{"full_name": "Lapsed Hold", "age": 50}])

    response = await client.get(f"/admin/departures/{departure.id}/manifest.csv")
    assert response.status == 200 and response.content_type == "text/csv"
    assert f'filename="manifest-hampta-pass-{departure.starts_on.isoformat()}.csv"' in response.headers["Content-Disposition"]
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Booking", "Status", "Payment", "Traveller", "Name", "Age", "Gender", "Phone", "Email", "Emergency contact", "Emergency phone"]
    assert rows[1] == [paid.reference, "Confirmed", "Paid ₹20,000", "1", "Asha Rao", "31", "female", "'+919876543210", "asha@example.com", "Ravi Rao", "'+919812345678"]
    assert rows[2][4] == "'=HYPERLINK(\"http://evil\")"
    assert rows[3][:6] == [held.reference, "Seats held", "Unpaid (₹10,000 due)", "1", "'@Kiran", "45"] and rows[3][7] == "'-5"
    assert len(rows) == 4 and "Gone Person" not in text and "Lapsed Hold" not in text


def test_cells_that_spreadsheets_would_run_get_a_leading_apostrophe():
    assert [csv_cell(v) for v in ("=1+1", "+91 98", "-2", "@SUM(A1)", "\tx", "Asha", "", None, 31)] == [
        "'=1+1", "'+91 98", "'-2", "'@SUM(A1)", "'\tx", "Asha", "", "", "31",
    ]  # fmt: skip
