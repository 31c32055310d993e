"""An operator changes a trip's price inline in Chromium; travellers see the new price."""

from playwright.async_api import expect

from tests.catalogue_data import make_catalogue
from tests.helpers import PASSWORD, make_user
from yatri.keys import DatabaseKey
from yatri.models import AuditLog, Role


async def test_admin_changes_the_price_inline_and_the_public_page_shows_it(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        trips = await make_catalogue()
        await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    trip = trips["hampta-pass-trek"]

    await page.goto(str(server.make_url(f"/login?next=/admin/trips/{trip.id}")))
    await page.fill("#f-email", "ops@example.com")
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(f"**/admin/trips/{trip.id}")
    await page.evaluate("window.notReloaded = true")

    # Escape cancels: the title comes back unchanged.
    await page.click("#field-title .inline-value")
    await page.fill("#f-title", "Something else")
    await page.press("#f-title", "Escape")
    await expect(page.locator("#field-title .value")).to_have_text("Hampta Pass Trek")

    # A bad price is refused in place, then Enter saves a good one.
    await page.click("#field-price .inline-value")
    await expect(page.locator("#f-price")).to_be_focused()
    await page.fill("#f-price", "lots")
    await page.press("#f-price", "Enter")
    await expect(page.locator("#field-price .field-error")).to_contain_text("Enter a price in rupees")
    await page.fill("#f-price", "12,345")
    await page.press("#f-price", "Enter")
    await expect(page.locator("#field-price .value")).to_have_text("₹12,345")
    assert await page.evaluate("window.notReloaded") is True  # all without a page load

    await page.goto(str(server.make_url("/trips/hampta-pass-trek")))
    await expect(page.locator(".facts strong")).to_have_text("₹12,962.25")  # the price with 5% GST
    with app[DatabaseKey]:
        assert await AuditLog.filter(entity="trip", action="edit").count() == 1
    # Chromium logs the refused price's 422 as a failed load; nothing else may complain (CSP, scripts).
    assert [p for p in page.problems if "status of 422" not in p] == []
