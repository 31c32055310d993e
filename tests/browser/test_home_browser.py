"""A traveller opens the home page on a phone and sees the featured demo trips."""

from yatri.demo import load_demo_data
from yatri.demo_catalogue import TRIPS


async def test_home_page_shows_demo_trips_in_chromium(aiohttp_server, app, page):
    server = await aiohttp_server(app)
    from yatri.keys import DatabaseKey

    with app[DatabaseKey]:
        await load_demo_data()
    await page.goto(str(server.make_url("/")))
    titles = await page.locator("#featured .cards h3").all_inner_texts()
    featured = {trip["title"] for trip in TRIPS if trip["is_published"] and trip["featured"]}
    assert titles and set(titles) == featured
    drafts = [trip["title"] for trip in TRIPS if not trip["is_published"]]
    assert drafts and not set(drafts) & set(titles)
    assert await page.evaluate("typeof htmx") == "object"  # loaded from static/vendor under the CSP
    assert page.problems == []
