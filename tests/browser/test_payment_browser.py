"""In Chromium: the traveller pays a held booking by UPI (the QR on screen decodes to the
deep link) and sends the UTR; the operator verifies it in the queue; the traveller's
booking page shows it confirmed, with a receipt."""

import io
import re
from datetime import UTC, datetime

import zxingcpp
from PIL import Image
from playwright.async_api import expect

from tests.booking_data import lead, make_departure
from tests.helpers import PASSWORD, make_user
from yatri.keys import DatabaseKey
from yatri.models import AuditLog, Booking, BookingStatus, Payment, PaymentStatus, Role
from yatri.services.booking import hold_seats
from yatri.services.upi import submit_utr


async def log_in(page, url, email: str, target: str) -> None:
    await page.goto(str(url(f"/login?next={target}")))
    await submit_login(page, email, target)


async def submit_login(page, email: str, target: str) -> None:
    """On the login page: log in and land on `target`."""
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(f"**{target}")


async def test_traveller_sends_a_utr_operator_verifies_booking_is_confirmed(aiohttp_server, app, page, browser):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        departure = await make_departure(capacity=8, price_rupees=9_950)
        asha = await make_user("asha@example.com", name="Asha Rao")
        await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
        now = datetime.now(UTC)
        booking = await hold_seats(
            asha, departure.id, [lead()], idempotency_key="browser-pay-1", now=now, today=now.date(),
            hold_minutes=15,
        )  # fmt: skip
    reference, url = booking.reference, server.make_url

    await log_in(page, url, "asha@example.com", f"/bookings/{reference}")
    await page.click(f"a[href='/bookings/{reference}/pay']")
    await expect(page.locator("#amount")).to_have_text("₹10,447.50")  # ₹9,950 + 5 % GST
    link = await page.locator("#upi-link").get_attribute("href")
    assert link == (
        "upi://pay?pa=yatri.demo@okaxis&pn=Yatri%20Demo%20Travels&am=10447.50&cu=INR"
        f"&tn=Hampta%20Pass%20{reference}&tr={reference}"
    )
    shot = await page.locator(".upi-qr").screenshot()
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))] == [link]
    await expect(page.locator(".countdown")).to_have_text(re.compile(r"\((1[0-5]|[0-9]):[0-5][0-9] left\)"))

    await page.fill("#f-utr", "4012 3456 789")  # one digit short
    await page.click(".utr-form button[type=submit]")
    await expect(page.locator("#f-utr-error")).to_contain_text("exactly 12 digits")
    await expect(page.locator("#f-utr")).to_have_value("4012 3456 789")
    await page.fill("#f-utr", "4012 3456 7890")
    await page.click(".utr-form button[type=submit]")
    await page.wait_for_url(f"**/bookings/{reference}")
    await expect(page.locator(".booking-status")).to_contain_text("Payment being checked")
    await expect(page.locator("#booking-payment")).to_contain_text("UTR 401234567890")
    await expect(page.locator(".countdown")).to_have_text(re.compile(r"\((4[78]) h [0-5]?[0-9] min left\)"))  # the 48-hour window

    operator = await browser.new_context(viewport={"width": 1280, "height": 900})
    ops = await operator.new_page()
    await log_in(ops, url, "ops@example.com", "/admin/payments")
    row = ops.locator("tr", has_text=reference)
    await expect(row).to_contain_text("401234567890")
    await expect(row).to_contain_text("₹10,447.50")
    await ops.evaluate("window.notReloaded = true")
    await row.locator("button:has-text('Verify')").click()
    await expect(row).to_contain_text("booking confirmed and the traveller emailed")
    assert await ops.evaluate("window.notReloaded") is True  # swapped by htmx
    await operator.close()

    await page.reload()
    await expect(page.locator(".booking-status")).to_contain_text("Confirmed")
    await page.click("text=Receipt")
    await expect(page.locator("#receipt-total")).to_have_text("₹10,447.50")
    await expect(page.locator("#receipt")).to_contain_text("UTR 401234567890")

    with app[DatabaseKey]:
        assert (await Booking.get(reference=reference)).status == BookingStatus.CONFIRMED
        assert (await Payment.get(utr="401234567890")).status == PaymentStatus.VERIFIED
        assert await AuditLog.filter(entity="booking", entity_id=reference, to_state="confirmed").count() == 1
    assert [p for p in page.problems if "status of 422" not in p] == []


async def test_operator_verifies_through_a_statement_upload(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        departure = await make_departure(capacity=8, price_rupees=9_950)
        asha = await make_user("asha@example.com", name="Asha Rao")
        await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
        now = datetime.now(UTC)
        booking = await hold_seats(
            asha, departure.id, [lead()], idempotency_key="browser-pay-2", now=now, today=now.date(),
            hold_minutes=15,
        )  # fmt: skip
        await submit_utr(booking.reference, "401234567890", user=asha, now=now, today=now.date(), verify_hours=48)
    statement = (
        "Txn Date,Narration,Ref No,Debit,Credit\n"
        "01/12/2026,UPI/401234567890/ASHA RAO,401234567890,,\"10,447.50\"\n"
        "01/12/2026,UPI/401234567811/SOMEONE,401234567811,,500.00\n"
    )

    await log_in(page, server.make_url, "ops@example.com", "/admin/payments")
    await page.evaluate("window.notReloaded = true")
    await page.set_input_files("#f-statement", files=[{"name": "statement.csv", "mimeType": "text/csv", "buffer": statement.encode()}])
    await page.click(".reconcile-form button[type=submit]")
    await expect(page.locator("#reconcile-summary")).to_contain_text("2 credit rows read: 1 match, 1 mismatch")
    assert await page.evaluate("window.notReloaded") is True  # htmx swapped the result in
    await expect(page.locator("#reconcile-progress")).to_be_hidden()
    await expect(page.locator("#mismatches")).to_contain_text("unknown UTR")
    await page.click("text=Verify the chosen matches")
    await expect(page.locator("#flash")).to_contain_text("Verified 1 payment from the statement")
    with app[DatabaseKey]:
        assert (await Booking.get(reference=booking.reference)).status == BookingStatus.CONFIRMED
        entry = await AuditLog.get(entity="payment", action="verify")
        assert entry.data == {"source": "statement", "line": 2}
    assert page.problems == []
