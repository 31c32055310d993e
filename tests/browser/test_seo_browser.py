"""The JSON-LD on a trip page under the strict CSP: Chromium neither runs it (a JSON object
run as script would be a syntax error) nor reports it as a blocked inline script."""

import json

from yatri.keys import DatabaseKey

from tests.catalogue_data import make_catalogue


async def test_json_ld_is_data_that_the_csp_neither_blocks_nor_runs(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    with app[DatabaseKey]:
        await make_catalogue()
    response = await page.goto(str(server.make_url("/trips/hampta-pass-trek")))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    blocks = await page.locator('script[type="application/ld+json"]').all_text_contents()
    assert [json.loads(block)["@type"] for block in blocks] == ["TouristTrip", "BreadcrumbList"]
    assert await page.evaluate("typeof htmx") == "object"  # the page's own scripts did run
    assert page.problems == []  # no CSP report, no script error
