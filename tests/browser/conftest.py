"""Browser tests: Playwright drives Debian's Chromium; it never downloads a browser."""

import os

import pytest
from playwright.async_api import async_playwright

CHROMIUM = os.environ.get("YATRI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser):
    """A page that records what the browser complains about (CSP violations, script errors)."""
    context = await browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = await context.new_page()
    page.problems = []
    page.on("console", lambda msg: msg.type == "error" and page.problems.append(msg.text))
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    yield page
    await context.close()


@pytest.fixture
async def phone(browser):
    """A 360 px phone on a bad network: failed requests are expected, so only script errors
    and CSP reports count as problems (not Chromium's "Failed to load resource" or htmx's
    own "htmx:error" log line)."""
    context = await browser.new_context(viewport={"width": 360, "height": 740})
    page = await context.new_page()
    page.problems = []
    expected = ("Failed to load", "htmx: htmx:error")
    page.on("console", lambda msg: msg.type == "error" and not msg.text.startswith(expected) and page.problems.append(msg.text))
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    yield page
    await context.close()
