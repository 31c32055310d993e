"""Without JavaScript, at 360 px: a traveller pays a held booking by UPI, the page that
waits on the operator says so and offers a refresh link, and refreshing shows the booking
confirmed once the operator has verified it."""

from datetime import UTC, datetime

import pytest
from playwright.async_api import expect

from tests.booking_data import lead, make_departure
from tests.browser.test_payment_browser import log_in
from tests.helpers import make_user
from yatri.keys import DatabaseKey, NotifierKey
from yatri.models import Payment, Role
from yatri.services.booking import hold_seats
from yatri.services.payments import verify_payment


@pytest.fixture
async def no_js(browser):
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = await context.new_page()
    yield page
    await context.close()


async def test_without_javascript_the_waiting_page_offers_a_refresh_and_shows_the_confirmation(aiohttp_server, app, no_js):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        departure = await make_departure(capacity=8)
        asha = await make_user("asha@example.com")
        ops = await make_user("ops@example.com", role=Role.ADMIN)
        now = datetime.now(UTC)
        booking = await hold_seats(
            asha, departure.id, [lead()], idempotency_key="no-js-1", now=now, today=now.date(), hold_minutes=15,
        )  # fmt: skip
    await log_in(no_js, server.make_url, "asha@example.com", f"/bookings/{booking.reference}/pay")
    await expect(no_js.locator("#hold")).to_contain_text("Your seats are held until")  # the time, no countdown
    await expect(no_js.locator("#net-banner")).to_be_hidden()
    await no_js.fill("#f-utr", "401234567890")
    await no_js.click(".utr-form button[type=submit]")
    await no_js.wait_for_url(f"**/bookings/{booking.reference}")
    waiting = no_js.locator("#booking-payment")
    await expect(waiting).to_contain_text("are checking it")
    await expect(waiting.locator("a.refresh")).to_have_attribute("href", f"/bookings/{booking.reference}")

    await no_js.click(".site-header a[href='/bookings']")
    await expect(no_js.locator(".waiting")).to_contain_text("We are checking a payment")
    await expect(no_js.locator(".waiting a.refresh")).to_have_attribute("href", "/bookings")
    await no_js.click(f"a[href='/bookings/{booking.reference}']")

    with app[DatabaseKey]:
        payment = await Payment.get(booking_id=booking.id)
        await verify_payment(payment.id, actor=ops, now=datetime.now(UTC), today=now.date(), notifier=app[NotifierKey])
    await waiting.locator("a.refresh").click()
    await expect(no_js.locator(".booking-status")).to_contain_text("Confirmed")
    await expect(no_js.locator("#booking-payment")).to_contain_text("Paid and confirmed")
