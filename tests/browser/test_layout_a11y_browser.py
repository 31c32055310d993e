"""Every page at 360 px and 1280 px, with JavaScript on and off: axe-core (the npm package,
from node_modules) finds no serious or critical violation (WCAG 2.2 AA, target size
included), and no page is wider than the screen; on a phone the admin's Log out is in
view and the payment queue's Verify and Reject need no sideways scrolling."""

from __future__ import annotations

import pytest

from yatri import PROJECT_ROOT
from yatri.keys import DatabaseKey

from tests.browser.conftest import CHROMIUM  # noqa: F401  (the browser fixture needs it)
from tests.browser.site_tour import TRAVELLER, seed_site, sign_in, sign_in_admin

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN_AXE = "tags => axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: tags}})"


async def violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now. axe is evaluated
    through DevTools, which the page's CSP does not govern (a script tag would be refused)."""
    await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = await page.evaluate(RUN_AXE, TAGS)
    return [
        f"{v['id']} ({v['impact']}): {', '.join(' '.join(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]  # fmt: skip


async def without_scripts(route):
    await route.abort()


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("a page's markup does not depend on the database; one run is enough")


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_every_page_has_no_serious_axe_violation_and_fits_the_screen(
    aiohttp_server, app, browser, sqlite_only, width, javascript
):
    assert AXE.exists(), "axe-core is missing: run make setup (npm ci)"
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    with app[DatabaseKey]:
        tour = await seed_site(app)
    found = []
    for who, urls in (("visitor", tour.public), ("traveller", tour.traveller), ("admin", tour.admin)):
        context = await browser.new_context(viewport={"width": width, "height": 740})
        page = await context.new_page()
        if who == "traveller":
            await sign_in(page, base, TRAVELLER)
        elif who == "admin":
            await sign_in_admin(page, base)
        if not javascript:  # the markup as a browser without JavaScript shows it: no script runs
            await page.route(lambda url: "/static/" in url and ".js?" in url, without_scripts)
        for url in urls:
            await page.goto(base + url)
            assert await page.evaluate("typeof htmx") == ("object" if javascript else "undefined")
            wide = await page.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                found.append(f"{who} {url}: {wide} px wide")
            found += [f"{who} {url}: {v}" for v in await violations(page)]
        await context.close()
    assert found == []


async def test_admin_on_a_phone_log_out_in_view_and_verify_reject_without_sideways_scroll(
    aiohttp_server, app, phone, sqlite_only
):
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    with app[DatabaseKey]:
        await seed_site(app)
    await sign_in_admin(phone, base)
    await phone.goto(base + "/admin/payments")
    logout = await phone.locator(".site-header button", has_text="Log out").bounding_box()
    header = await phone.locator(".site-header").bounding_box()
    assert logout and 0 <= logout["x"] and logout["x"] + logout["width"] <= 360
    assert header["y"] <= logout["y"] and logout["y"] + logout["height"] <= header["y"] + header["height"]
    for label in ("Verify", "Reject"):
        box = await phone.locator("button", has_text=label).first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, label
        assert box["height"] >= 44, label
    # Visible focus: a focused button draws an outline.
    await phone.locator("button", has_text="Verify").first.focus()
    await phone.keyboard.press("Shift+Tab")
    await phone.keyboard.press("Tab")
    outline = await phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    assert phone.problems == []
