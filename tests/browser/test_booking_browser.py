"""A traveller books a trip for two in Chromium on a phone-sized screen, sees the hold
countdown and the booking in My bookings, edits a traveller and cancels."""

import re

from playwright.async_api import expect

from tests.booking_data import make_departure
from tests.helpers import PASSWORD, make_user
from yatri.keys import DatabaseKey
from yatri.models import Booking, BookingStatus, Traveller


async def test_book_two_travellers_edit_one_and_cancel(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        departure = await make_departure(capacity=8, price_rupees=9_950)
        await make_user("asha@example.com", name="Asha Rao")
    url = server.make_url

    await page.goto(str(url(f"/trips/{departure.trip.slug}")))
    await page.click(".departures a.button")  # Book: asks to log in first
    await page.fill("#f-email", "asha@example.com")
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(f"**/departures/{departure.id}/book")

    await page.evaluate("window.notReloaded = true")
    await page.select_option("#f-count", "2")  # htmx swaps in a second traveller's fields
    await expect(page.locator("#f-t2-full_name")).to_be_visible()
    assert await page.evaluate("window.notReloaded") is True
    await expect(page.locator("#f-t1-full_name")).to_have_value("Asha Rao")
    await page.fill("#f-t1-age", "31")
    await page.fill("#f-t1-phone", "98765 43210")
    await page.fill("#f-t1-emergency_contact_name", "Ravi Rao")
    await page.fill("#f-t1-emergency_contact_phone", "98123 45678")
    await page.fill("#f-t2-full_name", "Meera Iyer")
    await page.fill("#f-t2-age", "")  # forgotten: the form comes back with a message
    await page.click("#traveller-forms button[type=submit]")
    await expect(page.locator("#f-t2-age-error")).to_contain_text("Enter the age")
    await expect(page.locator("#f-t2-full_name")).to_have_value("Meera Iyer")
    await page.fill("#f-t2-age", "29")
    await page.click("#traveller-forms button[type=submit]")

    await expect(page.locator(".price-table .total td")).to_have_text("₹20,895")  # 2 × ₹9,950 + 5 % GST
    await page.click("text=Confirm and hold seats")
    await expect(page.locator(".booking-status")).to_contain_text("Seats held")
    await expect(page.locator(".countdown")).to_have_text(re.compile(r"\((1[0-5]|[0-9]):[0-5][0-9] left\)"))
    reference = (await page.locator(".meta strong").text_content()).strip()

    await page.click("text=My bookings")
    await expect(page.locator(f"a[href='/bookings/{reference}']")).to_be_visible()
    await page.click(f"a[href='/bookings/{reference}']")

    await page.click("text=Edit traveller details")
    await page.fill("#f-t2-full_name", "Meera Iyer-Nair")
    await page.click("button:has-text('Save')")
    await expect(page.locator("main")).to_contain_text("Meera Iyer-Nair")

    await page.click("text=Cancel this booking")
    await expect(page.locator(".refund-amount")).to_contain_text("nothing to refund")
    await page.click("text=Yes, cancel the booking")
    await expect(page.locator(".booking-status")).to_contain_text("Cancelled")

    with app[DatabaseKey]:
        booking = await Booking.get(reference=reference)
        assert (booking.status, booking.seats) == (BookingStatus.CANCELLED, 2)
        names = await Traveller.filter(booking=booking).order_by("position").values_list("full_name", flat=True)
        assert names == ["Asha Rao", "Meera Iyer-Nair"]
    assert [p for p in page.problems if "status of 422" not in p] == []
