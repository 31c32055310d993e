"""In Chromium at 360 px: a pay form never loses its UTR, whether its CSRF token expired,
its session ended (log in again and come back to it) or the phone went offline."""

from datetime import UTC, datetime

from playwright.async_api import expect

from tests.booking_data import lead, make_departure
from tests.browser.test_payment_browser import log_in, submit_login
from tests.helpers import make_user
from yatri.keys import DatabaseKey
from yatri.models import Booking, BookingStatus
from yatri.models import Session as SessionRow
from yatri.services.booking import hold_seats

UTR = "4012 3456 7890"


async def _pay_page(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        departure = await make_departure(capacity=8)
        user = await make_user("asha@example.com")
        now = datetime.now(UTC)
        booking = await hold_seats(
            user, departure.id, [lead()], idempotency_key="expired-form-1", now=now, today=now.date(),
            hold_minutes=15,
        )  # fmt: skip
    await log_in(page, server.make_url, "asha@example.com", f"/bookings/{booking.reference}/pay")
    await page.fill("#f-utr", UTR)
    return booking


async def test_a_pay_form_with_an_expired_token_keeps_its_utr(aiohttp_server, app, phone):
    booking = await _pay_page(aiohttp_server, app, phone)
    await phone.evaluate("document.querySelector('.utr-form [name=csrf_token]').value = 'stale'")
    await phone.click(".utr-form button[type=submit]")
    await expect(phone.locator("#flash")).to_contain_text("This form has expired, so nothing was sent. We kept what you typed")
    await expect(phone.locator("#f-utr")).to_have_value(UTR)
    await phone.click(".utr-form button[type=submit]")  # with the fresh token
    await phone.wait_for_url(f"**/bookings/{booking.reference}")
    await expect(phone.locator(".booking-status")).to_contain_text("Payment being checked")
    assert phone.problems == []


async def test_after_the_session_ended_the_pay_form_comes_back_with_its_utr(aiohttp_server, app, phone):
    booking = await _pay_page(aiohttp_server, app, phone)
    with app[DatabaseKey]:
        await SessionRow.all().delete()  # idle too long
    await phone.click(".utr-form button[type=submit]")
    await expect(phone.locator("main")).to_contain_text("your session ended, so nothing was sent")
    await phone.click("a.button:has-text('Log in again')")
    await submit_login(phone, "asha@example.com", f"/bookings/{booking.reference}/pay")
    await expect(phone.locator("#f-utr")).to_have_value(UTR)
    with app[DatabaseKey]:
        assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD  # nothing sent yet
    await phone.click(".utr-form button[type=submit]")
    await phone.wait_for_url(f"**/bookings/{booking.reference}")
    await expect(phone.locator(".booking-status")).to_contain_text("Payment being checked")
    assert phone.problems == []


async def test_a_pay_form_sent_offline_stays_with_its_utr(aiohttp_server, app, phone):
    booking = await _pay_page(aiohttp_server, app, phone)
    await phone.context.set_offline(True)
    await phone.click(".utr-form button[type=submit]")
    await expect(phone.locator(".net-note")).to_contain_text("Not sent: you are offline")
    await expect(phone.locator("#net-banner")).to_be_visible()
    assert phone.url.endswith(f"/bookings/{booking.reference}/pay")
    await expect(phone.locator("#f-utr")).to_have_value(UTR)
    await phone.context.set_offline(False)
    await expect(phone.locator(".net-note")).to_contain_text("The connection is back: send the form again")
    with app[DatabaseKey]:
        assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD  # never sent by itself
    await phone.click(".utr-form button[type=submit]")
    await phone.wait_for_url(f"**/bookings/{booking.reference}")
    assert phone.problems == []
