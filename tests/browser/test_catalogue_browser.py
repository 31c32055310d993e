"""A traveller filters trips on a phone: with HTMX (no reload, shareable URL, back button)
and with JavaScript turned off (the same form does a plain GET)."""

from playwright.async_api import expect

from yatri.keys import DatabaseKey

from tests.catalogue_data import make_catalogue


async def _server(aiohttp_server, app):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        await make_catalogue()
    return server


def _titles(page):
    return page.locator("#results .cards h3").all_inner_texts()


async def test_filters_swap_results_without_reload_and_back_restores(aiohttp_server, app, page):
    server = await _server(aiohttp_server, app)
    await page.goto(str(server.make_url("/trips")))
    assert len(await _titles(page)) == 10
    await page.evaluate("window.notReloaded = true")

    await page.click(".filters summary")
    await page.select_option("#f-kind", "trek")
    await page.wait_for_url("**/trips?kind=trek")
    await expect(page.locator("#results .cards h3")).to_have_count(2)
    assert await _titles(page) == ["Bhrigu Lake Trek", "Hampta Pass Trek"]

    await page.fill("#f-q", "hampta")
    await page.press("#f-q", "Enter")
    await page.wait_for_url("**/trips?q=hampta&kind=trek")
    await expect(page.locator("#results .cards h3")).to_have_count(1)
    assert await _titles(page) == ["Hampta Pass Trek"]

    await page.fill("#f-min", "abc")
    await page.press("#f-min", "Enter")
    await expect(page.locator("#err-min_price")).to_contain_text("whole rupees")
    assert await page.evaluate("window.notReloaded") is True  # all of it without a page load
    await page.fill("#f-min", "")
    await page.press("#f-min", "Enter")
    await expect(page.locator("#err-min_price")).to_have_text("")

    await page.go_back()  # the min_price=abc view
    await page.go_back()
    await page.wait_for_url("**/trips?q=hampta&kind=trek")
    await page.go_back()
    await page.wait_for_url("**/trips?kind=trek")
    await expect(page.locator("#results .cards h3")).to_have_count(2)
    assert await page.input_value("#f-q") == ""
    assert await page.input_value("#f-kind") == "trek"
    assert page.problems == []


async def test_pagination_with_htmx_pushes_the_page(aiohttp_server, app, page):
    server = await _server(aiohttp_server, app)
    await page.goto(str(server.make_url("/trips?sort=price")))
    first = await _titles(page)
    await page.click("a[rel=next]")
    await page.wait_for_url("**/trips?sort=price&page=2")
    await expect(page.locator("#results .cards h3")).to_have_count(7)
    await page.go_back()
    await page.wait_for_url("**/trips?sort=price")
    await expect(page.locator("#results .cards h3")).to_have_count(10)
    assert await _titles(page) == first
    assert page.problems == []


async def test_same_search_without_javascript(aiohttp_server, app, browser):
    server = await _server(aiohttp_server, app)
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = await context.new_page()
    try:
        await page.goto(str(server.make_url("/trips")))
        await page.fill("#f-q", "trek")
        await page.click(".filters summary")
        await page.fill("#f-max", "abc")
        await page.click("#filters button[type=submit]")
        await page.wait_for_url("**/trips?q=trek**")
        assert await _titles(page) == ["Bhrigu Lake Trek", "Hampta Pass Trek"]
        assert "whole rupees" in await page.inner_text("#err-max_price")
        await page.click("#results .cards a >> nth=1")
        await page.wait_for_url("**/trips/hampta-pass-trek")
        assert await page.locator("table.departures a", has_text="Book").count() == 2
    finally:
        await context.close()


async def test_the_last_filters_come_back_on_a_plain_visit_and_clear_forgets_them(aiohttp_server, app, phone):
    server = await _server(aiohttp_server, app)
    await phone.goto(str(server.make_url("/trips")))
    await phone.click(".filters summary")
    await phone.select_option("#f-kind", "trek")
    await phone.wait_for_url("**/trips?kind=trek")
    await phone.select_option("#f-sort", "price")
    await phone.wait_for_url("**/trips?kind=trek&sort=price")

    await phone.goto(str(server.make_url("/")))
    await phone.click(".site-header a[href='/trips']")
    await phone.wait_for_url("**/trips?kind=trek&sort=price")
    assert await phone.input_value("#f-kind") == "trek" and await phone.input_value("#f-sort") == "price"
    assert await _titles(phone) == ["Bhrigu Lake Trek", "Hampta Pass Trek"]

    await phone.click("a.reset:has-text('Clear')")
    await phone.wait_for_url("**/trips?clear=1")
    assert len(await _titles(phone)) == 10 and await phone.input_value("#f-kind") == ""
    await phone.goto(str(server.make_url("/trips")))
    assert phone.url.endswith("/trips") and len(await _titles(phone)) == 10
    assert phone.problems == []
