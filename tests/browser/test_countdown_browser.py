"""In Chromium at 360 px: when a hold's countdown reaches zero, the booking page and the
pay page ask the server for their fresh state, which says the hold lapsed and what can
still be done (pay late while seats are free), with no reload."""

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.booking_data import lead, make_departure
from tests.browser.test_payment_browser import log_in
from tests.helpers import make_user
from yatri.keys import DatabaseKey
from yatri.services.booking import hold_seats


async def _hold_ending_soon(aiohttp_server, app, seconds: int):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        departure = await make_departure(capacity=8)
        user = await make_user("asha@example.com")
        now = datetime.now(UTC) - timedelta(minutes=15) + timedelta(seconds=seconds)  # a 15-minute hold, nearly over
        booking = await hold_seats(
            user, departure.id, [lead()], idempotency_key="countdown-1", now=now, today=now.date(),
            hold_minutes=15,
        )  # fmt: skip
    return server, booking.reference


async def test_the_booking_page_turns_expired_when_its_countdown_ends(aiohttp_server, app, phone):
    server, reference = await _hold_ending_soon(aiohttp_server, app, 6)
    await log_in(phone, server.make_url, "asha@example.com", f"/bookings/{reference}")
    await phone.evaluate("window.notReloaded = true")
    status = phone.locator("#booking-status")
    await expect(status).to_contain_text("Seats held")
    await expect(status.locator(".countdown")).to_have_text("(0:01 left)", timeout=8000)

    await expect(status).to_contain_text("Hold expired", timeout=5000)
    await expect(status).to_contain_text("no longer reserved, but while they are still free you can pay")
    await expect(status.locator(f"a[href='/bookings/{reference}/pay']")).to_be_visible()
    await expect(status.locator(".countdown")).to_have_count(0)
    assert await phone.evaluate("window.notReloaded") is True
    assert phone.problems == []


async def test_the_pay_page_says_the_hold_lapsed_when_its_countdown_ends(aiohttp_server, app, phone):
    server, reference = await _hold_ending_soon(aiohttp_server, app, 6)
    await log_in(phone, server.make_url, "asha@example.com", f"/bookings/{reference}/pay")
    await phone.fill("#f-utr", "401234567890")
    hold = phone.locator("#hold")
    await expect(hold).to_contain_text("Your seats are held until")

    await expect(hold).to_contain_text("The hold on your seats has lapsed. You can still pay", timeout=10_000)
    assert await phone.input_value("#f-utr") == "401234567890"  # the form stays, with what was typed
    assert phone.problems == []
