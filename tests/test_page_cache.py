"""The page cache (web/page_cache.py) on both databases: one traveller's header never
reaches another, an edit is seen at once (by another process too), seats stay honest,
misses are coalesced and the cache keeps within its bytes."""

import asyncio
import re

from aiohttp import web
from aiohttp.test_utils import TestClient
from tortoise.transactions import in_transaction

from tests.catalogue_data import book, make_catalogue
from tests.helpers import PASSWORD, csrf_in, make_user
from yatri.app import create_app
from yatri.keys import PageCacheKey
from yatri.models import Departure, Trip
from yatri.services import catalogue
from yatri.web.page_cache import Page, PageCache

PAGES = ("/trips", "/trips?q=trek&sort=price", "/", "/trips/hampta-pass-trek", "/destinations/manali")
_BODY_TOKEN = re.compile(r'hx-headers:inherited=\'\{"X-CSRF-Token": "([^"]+)"\}\'')


async def _signed_in(client, email: str, name: str) -> TestClient:
    """Another browser (its own cookies) on the test client's server, signed in."""
    await make_user(email, name=name)
    client = TestClient(client.server)
    await client.start_server()
    token = csrf_in(await (await client.get("/login")).text())
    response = await client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    welcome = await (await client.get("/trips?q=welcome")).text()  # the login's flash, on a page of its own
    assert f"Welcome back, {name}" in welcome
    return client


async def test_a_signed_in_header_never_reaches_another_visitor(app, client):
    await make_catalogue()
    asha = await _signed_in(client, "asha@example.com", "Asha Alpha")
    ravi = await _signed_in(client, "ravi@example.com", "Ravi Beta")
    assert "Welcome back" not in await (await client.get("/trips?q=welcome")).text()
    for path in PAGES:
        mine = await (await asha.get(path)).text()  # Asha fills the cache first
        theirs = await (await ravi.get(path)).text()
        anonymous = await (await client.get(path)).text()
        assert "Asha Alpha" in mine and "Ravi Beta" not in mine, path
        assert "Ravi Beta" in theirs and "Asha Alpha" not in theirs, path
        assert "Asha Alpha" not in anonymous and "Ravi Beta" not in anonymous and "Log in" in anonymous, path
        asha_token, ravi_token = csrf_in(mine), csrf_in(theirs)
        assert asha_token != ravi_token and asha_token not in theirs and asha_token not in anonymous, path
        assert _BODY_TOKEN.search(mine).group(1) == asha_token and "csrf_token" not in anonymous, path
        # The rest of the page is the one cached page, and its ETag differs per visitor.
        assert mine.replace(asha_token, "").split("</header>")[1] == anonymous.split("</header>")[1], path
    assert len(app[PageCacheKey]) >= len(PAGES) and app[PageCacheKey].hits >= 2 * len(PAGES)
    etags = {(await c.get("/trips")).headers["ETag"] for c in (asha, ravi, client)}
    assert len(etags) == 3
    await asha.session.close()
    await ravi.session.close()


async def test_the_stored_gzip_and_304_answer_before_any_rendering(client, app):
    await make_catalogue()
    first = await client.get("/trips", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in first.headers["Vary"]
    pages = app[PageCacheKey]
    hits, misses = pages.hits, pages.misses
    again = await client.get("/trips", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304 and not await again.read()
    plain = await client.get("/trips", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and "Hampta Pass Trek" in await plain.text()
    assert (pages.hits, pages.misses) == (hits + 2, misses)


async def test_an_edit_is_seen_at_once_by_this_and_another_process(client, app, aiohttp_client, settings):
    trips = await make_catalogue()
    other = await aiohttp_client(create_app(settings))  # a second worker on the same database
    for c in (client, other):
        assert "Hampi Ruins Walk" in await (await c.get("/trips?q=hampi")).text()
        assert "Hampi Ruins Walk" in await (await c.get("/trips/hampi-ruins-walk")).text()
    async with in_transaction():
        await Trip.filter(id=trips["hampi-ruins-walk"].id).update(title="Hampi Boulder Walk")
        await catalogue.bump_version()
    for c in (client, other):
        assert "Hampi Boulder Walk" in await (await c.get("/trips?q=hampi")).text()
        assert "Hampi Boulder Walk" in await (await c.get("/trips/hampi-ruins-walk")).text()
        assert "Hampi Boulder Walk" in await (await c.get("/destinations/hampi")).text()


async def test_seats_left_on_cached_pages_follow_every_booking(client):
    trips = await make_catalogue()
    departure = await Departure.filter(trip=trips["hampta-pass-trek"]).order_by("starts_on").first()
    assert "10 seats left" in await (await client.get("/")).text()
    assert "<td>10 <span" in await (await client.get("/trips/hampta-pass-trek")).text()
    await book(departure, 3)  # no catalogue edit: only the seats moved
    home = await (await client.get("/")).text()
    trip = await (await client.get("/trips/hampta-pass-trek")).text()
    upcoming = home.split('id="upcoming-heading"')[1].split('id="places-heading"')[0]
    assert "7 seats left" in upcoming.split("Hampta Pass Trek")[1].split("</li>")[0] and "<td>7 <span" in trip


async def test_concurrent_misses_fill_one_entry_once():
    pages = PageCache()
    calls = []

    async def fill() -> Page:
        calls.append(1)
        await asyncio.sleep(0.05)
        return Page.of(web.Response(text="<p>one</p>", content_type="text/html"))

    results = await asyncio.gather(*(pages.get("k", fill) for _ in range(20)))
    assert len(calls) == 1 and all(page is results[0] for page in results)
    assert (pages.misses, pages.hits) == (1, 19)

    async def broken() -> Page:
        await asyncio.sleep(0.01)
        raise RuntimeError("render failed")

    outcomes = await asyncio.gather(*(pages.get("bad", broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes) and "bad" not in pages._pages
    assert await pages.get("bad", fill) is not None  # a failed fill is tried again next time


async def test_the_cache_keeps_within_its_bytes():
    pages = PageCache(max_bytes=20_000)

    def page(n: int):
        async def fill() -> Page:
            return Page.of(web.Response(text=f"<p>{n}</p>" + "x" * 3000 + str(n) * 2000, content_type="text/html"))

        return fill

    for n in range(40):
        await pages.get(n, page(n))
        assert pages.bytes <= pages.max_bytes
    assert 0 < len(pages) < 40 and 39 in pages._pages and 0 not in pages._pages  # the oldest went first
    assert pages.bytes == sum(p.size for p in pages._pages.values())
    huge = PageCache(max_bytes=1000)
    await huge.get("big", page(1))
    assert len(huge) == 0 and huge.bytes == 0  # too big to keep, still answered
