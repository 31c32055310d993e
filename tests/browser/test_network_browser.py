"""A bad network on a 360 px phone, in Chromium: offline, a slow answer (3 s) and a hung
one (htmx gives up after 15 s). The banner, the loading indicator, the timeout message
and a successful retry each appear, the filters never pretend to be applied, and
nothing typed is lost."""

import asyncio
import re

from playwright.async_api import expect

from yatri.keys import DatabaseKey
from yatri.models import Role

from tests.browser.test_payment_browser import log_in
from tests.catalogue_data import make_catalogue
from tests.helpers import make_user

FILTERED = "**/trips?*"  # the swaps; the first /trips page load has no query


async def _trips(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        await make_catalogue()
    await page.goto(str(server.make_url("/trips")))
    await page.wait_for_function("window.htmx && htmx.config.defaultTimeout === 15000")
    return server


def _titles(page):
    return page.locator("#results .cards h3").all_inner_texts()


async def test_offline_filter_shows_the_banner_and_catches_up_when_back(aiohttp_server, app, phone):
    await _trips(aiohttp_server, app, phone)
    before = await _titles(phone)
    await phone.context.set_offline(True)
    await expect(phone.locator("#net-banner")).to_be_visible()

    await phone.fill("#f-q", "walk")  # typed while offline
    await phone.select_option("#f-sort", "price_desc")
    note = phone.locator(".net-note")
    await expect(note).to_contain_text("Not updated: you are offline")
    await expect(note.locator("button", has_text="Retry")).to_be_visible()
    await expect(phone.locator("#results")).to_have_class(re.compile(r"\bnet-stale\b"))  # the old order, marked
    await expect(phone.locator("#filters")).to_have_class(re.compile(r"\bnet-pending\b"))  # the controls: not applied
    assert await _titles(phone) == before
    assert await phone.input_value("#f-q") == "walk" and await phone.input_value("#f-sort") == "price_desc"

    await phone.context.set_offline(False)  # back: the banner goes and the results catch up by themselves
    await expect(phone.locator("#net-banner")).to_be_hidden()
    await phone.wait_for_url("**/trips?q=walk&sort=price_desc")
    await expect(note).to_have_count(0)
    await expect(phone.locator("#filters")).to_have_class("filters")
    titles = await _titles(phone)
    assert titles[:2] == ["Hampi Ruins Walk", "Coastal walk 12"]  # ₹4,500 first, then the dearest coastal walk
    assert phone.problems == []


async def test_a_slow_answer_shows_the_indicator_after_300_ms(aiohttp_server, app, phone):
    await _trips(aiohttp_server, app, phone)

    async def slow(route):
        await asyncio.sleep(3)
        await route.continue_()

    await phone.route(FILTERED, slow)
    await phone.click(".filters summary")
    await phone.select_option("#f-kind", "trek")
    await expect(phone.locator("#results")).to_have_attribute("aria-busy", "true")
    await expect(phone.locator("#net-progress")).to_be_visible(timeout=2000)  # well before the 3 s answer
    await expect(phone.locator("#results .cards h3")).to_have_count(2, timeout=6000)
    await expect(phone.locator("#net-progress")).to_be_hidden()
    await expect(phone.locator("#results")).not_to_have_attribute("aria-busy", "true")
    await expect(phone.locator(".net-note")).to_have_count(0)
    assert phone.problems == []


async def test_a_hung_answer_times_out_with_a_message_and_retry_works(aiohttp_server, app, phone):
    await _trips(aiohttp_server, app, phone)
    seen, done = [], asyncio.Event()

    async def hang(route):  # the first try and the automatic retry hang; then the server answers
        seen.append(route.request.url)
        if len(seen) > 2:
            await route.continue_()
            return
        await done.wait()
        try:
            await route.abort()
        except Exception:  # the browser gave up on it long ago
            pass

    await phone.route(FILTERED, hang)
    await phone.fill("#f-q", "hampta")
    await phone.press("#f-q", "Enter")
    note = phone.locator(".net-note")
    await expect(phone.locator("#results")).to_have_attribute("aria-busy", "true")
    await expect(note).to_contain_text("the server took longer than 15 s. Trying again in 1 s", timeout=20_000)
    await expect(phone.locator("#results")).to_have_class(re.compile(r"\bnet-stale\b"))
    assert await phone.input_value("#f-q") == "hampta"
    async with asyncio.timeout(5):
        while len(seen) < 2:  # the automatic retry is on its way, and hangs too
            await asyncio.sleep(0.1)

    await note.locator("button", has_text="Retry").click()  # gives up the hanging try and asks again
    await phone.wait_for_url("**/trips?q=hampta")
    await expect(phone.locator("#results .cards h3")).to_have_count(1)
    await expect(note).to_have_count(0)
    await expect(phone.locator("#results")).to_have_class("results")
    assert len(seen) == 3
    done.set()
    assert phone.problems == []


async def test_a_failed_get_is_retried_by_itself(aiohttp_server, app, phone):
    await _trips(aiohttp_server, app, phone)
    failures = []

    async def flaky(route):
        if not failures:  # the first attempt fails, the automatic retry gets through
            failures.append(route.request.url)
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await phone.route(FILTERED, flaky)
    await phone.click(".filters summary")
    await phone.select_option("#f-kind", "event")
    await expect(phone.locator(".net-note")).to_contain_text("Trying again in 1 s")
    await expect(phone.locator("#results .cards h3")).to_have_count(1, timeout=5000)
    assert await _titles(phone) == ["Goa Carnival"]
    await expect(phone.locator(".net-note")).to_have_count(0)
    await expect(phone.locator("#net-banner")).to_be_hidden()
    assert len(failures) == 1


async def test_a_failed_htmx_post_is_never_sent_again_by_itself_and_keeps_what_was_typed(aiohttp_server, app, phone):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        trip = (await make_catalogue())["hampta-pass-trek"]
        await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    await log_in(phone, server.make_url, "ops@example.com", f"/admin/trips/{trip.id}")
    posts = []

    async def cut(route):
        if route.request.method == "POST":
            posts.append(route.request.url)
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await phone.route("**/admin/trips/**", cut)
    await phone.click("#field-price .inline-value")
    await phone.fill("#f-price", "12,345")
    await phone.press("#f-price", "Enter")
    note = phone.locator(".net-note")
    await expect(note).to_contain_text("Not sent: the connection failed. What you typed is still here")
    await expect(note.locator("button")).to_have_count(0)  # no Retry for a post
    await phone.wait_for_timeout(2500)  # longer than the first GET retry would wait
    assert len(posts) == 1
    assert await phone.input_value("#f-price") == "12,345"

    await phone.unroute("**/admin/trips/**")
    await phone.press("#f-price", "Enter")  # sent again by hand
    await expect(phone.locator("#field-price .value")).to_have_text("₹12,345")
    await expect(note).to_have_count(0)
    assert phone.problems == []
