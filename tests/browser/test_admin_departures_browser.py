"""An operator manages a departure in Chromium on a phone: the capacity is refused in its
row when below the seats sold, then saved; sales closed; no page reloads, no CSP errors."""

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.admin_data import make_booking, make_departure, make_trip
from tests.helpers import PASSWORD, make_user
from yatri.keys import DatabaseKey
from yatri.models import Departure, Role


async def test_admin_changes_capacity_and_closes_sales_in_place(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        trip = await make_trip()
        departure = await make_departure(trip, datetime.now(UTC).date() + timedelta(days=30), capacity=10)
        await make_booking(departure, await make_user("asha@example.com"), seats=4)
        await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)

    await page.goto(str(server.make_url(f"/login?next=/admin/trips/{trip.id}/departures")))
    await page.fill("#f-email", "ops@example.com")
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(f"**/admin/trips/{trip.id}/departures")
    await page.evaluate("window.notReloaded = true")
    row = page.locator(f"#departure-{departure.id}")

    await row.locator("input[name=capacity]").fill("3")
    await row.locator("form[action$='/capacity'] button").click()
    await expect(row.locator(".field-error")).to_contain_text("the capacity cannot go below 4")
    await expect(row.locator("input[name=capacity]")).to_have_value("3")

    await row.locator("input[name=capacity]").fill("6")
    await row.locator("form[action$='/capacity'] button").click()
    await expect(row.locator(".left")).to_have_text("2")
    await expect(row.locator(".field-error")).to_have_count(0)

    await row.locator("form[action$='/sales'] button").click()
    await expect(row.locator("form[action$='/sales'] button")).to_have_text("Reopen sales")
    assert await page.evaluate("window.notReloaded") is True
    assert [p for p in page.problems if "status of 422" not in p] == []  # the refused capacity
    with app[DatabaseKey]:
        saved = await Departure.get(id=departure.id)
    assert (saved.capacity, saved.sales_closed) == (6, True)
