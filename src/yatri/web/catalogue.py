"""Catalogue pages: home, /trips with filters, trip and destination pages, media files.

Pages come from the page cache (web/page_cache.py), keyed by what their markup depends
on: the catalogue version, the day, the filters as typed, and the seats left on the
departures they show (so seats stay honest). They carry a weak ETag and answer 304 to a
matching If-None-Match before any body is built. Pages that show seats left are
revalidated on every visit; the trip list and destination pages may be reused by the
browser for a short while.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from urllib.parse import parse_qsl, urlencode

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from yatri.keys import CatalogueCacheKey, MediaKey, PageCacheKey, SettingsKey
from yatri.services import catalogue, seo
from yatri.services.catalogue import TripFilters
from yatri.services.catalogue_query import parse_filters
from yatri.web import clock
from yatri.web.page_cache import Page, cacheable, render_anonymous, respond
from yatri.web.render import is_htmx, render, wants_fragment

REVALIDATE = "private, no-cache"
SHORT = "private, max-age=30"
VARY = "HX-Request, HX-History-Restore-Request, Cookie"
TRIPS_COOKIE = "yatri_trips"  # the last filters and sort of /trips, as a query string
REMEMBER_SECONDS = 90 * 24 * 3600
FILTER_FIELDS = ("q", "destination", "kind", "difficulty", "from", "to", "min_price", "max_price", "sort", "page")

Draw = Callable[[web.Request, str, dict], web.Response]  # render, or render_anonymous for the cache


async def cached_page(
    request: web.Request, key: Hashable, build: Callable[[Draw], Awaitable[Page]], cache_control: str
) -> web.Response:
    """The page of `key` from the page cache (`build` draws it on a miss, as an anonymous
    visitor sees it), or drawn for this request alone when it has a flash message to show."""
    pages = request.app[PageCacheKey]
    page = await pages.get(key, lambda: build(render_anonymous)) if cacheable(request) else await build(render)
    return respond(request, page, {"Cache-Control": cache_control, "Vary": VARY}, pages.anonymous_header(request))


def drawing(request: web.Request, template: str, context: dict) -> Callable[[Draw], Awaitable[Page]]:
    async def build(draw: Draw) -> Page:
        return Page.of(draw(request, template, context))

    return build


async def home(request: web.Request) -> web.Response:
    now, today = clock.now(request), clock.today(request)
    cache = request.app[CatalogueCacheKey]
    data = await catalogue.home_page(today, now, cache)
    seats = tuple((view.departure.id, view.seats_left) for view in data.upcoming)
    key = ("home", cache.version, today, seats)
    return await cached_page(request, key, drawing(request, "pages/home.html", {"home": data}), REVALIDATE)


async def trips(request: web.Request) -> web.Response:
    """The trip list. With HTMX only the results fragment (and the filter messages) goes out,
    with an HX-Push-Url that leaves out empty filters, so the address bar stays readable.
    The last filters and sort are remembered (a cookie); a plain visit to /trips goes back
    to them, and /trips?clear=1 (the form's Clear link) forgets them. A cached page skips
    the search: it depends only on the query as typed, the day and the catalogue version."""
    if not request.query and (saved := _saved_filters(request)):
        raise web.HTTPFound(_trips_url(saved), headers={"Cache-Control": REVALIDATE, "Vary": VARY})
    cache = request.app[CatalogueCacheKey]
    destinations = await catalogue.destination_choices(request.query.get("destination", "").strip(), cache)
    filters, errors = parse_filters(request.query, [d.slug for d in destinations])
    raw = {name: request.query.get(name, "") for name in FILTER_FIELDS}
    oob = is_htmx(request) and not request.headers.get("HX-History-Restore-Request")
    key = ("trips", cache.version, clock.today(request), tuple(raw.values()), oob)

    async def build(draw: Draw) -> Page:
        return await _trips_page(request, draw, filters, errors, raw, destinations, oob)

    response = await cached_page(request, key, build, SHORT)
    _remember_filters(request, response, filters.query_params(page=""))
    return response


async def _trips_page(
    request: web.Request, draw: Draw, filters: TripFilters, errors: dict[str, str], raw: dict[str, str], destinations: list, oob: bool
) -> Page:
    result = await catalogue.search_trips(filters, clock.today(request), request.app[CatalogueCacheKey], synced=True)
    context = {
        "result": result,
        "filters": filters,
        "errors": errors,
        "raw": raw,
        "destinations": destinations,
        "kinds": [k.value for k in catalogue.TripKind],
        "difficulties": [d.value for d in catalogue.Difficulty],
        "sorts": catalogue.SORTS,
        "page_url": lambda page: _trips_url(filters.query_params(page=page if page > 1 else "")),
        "oob": oob,
    }
    context["results_html"] = Markup(aiohttp_jinja2.render_string("fragments/trip_results.html", request, context))
    if not oob:
        return Page.of(draw(request, "pages/trips.html", context))
    url = _trips_url(filters.query_params(page=result.page if result.page > 1 else ""))
    return Page.of(web.Response(text=context["results_html"], content_type="text/html"), {"HX-Push-Url": url})


def _saved_filters(request: web.Request) -> dict[str, str]:
    pairs = parse_qsl(request.cookies.get(TRIPS_COOKIE, ""))[: len(FILTER_FIELDS)]
    return {name: value for name, value in pairs if name in FILTER_FIELDS and name != "page"}


def _remember_filters(request: web.Request, response: web.Response, params: dict[str, str]) -> None:
    value = urlencode(params)
    if value == request.cookies.get(TRIPS_COOKIE, ""):
        return
    if not value:
        response.del_cookie(TRIPS_COOKIE, path="/trips")
        return
    secure = request.app[SettingsKey].production
    response.set_cookie(TRIPS_COOKIE, value, max_age=REMEMBER_SECONDS, path="/trips", httponly=True, samesite="Lax", secure=secure)


def _trips_url(params: dict[str, str]) -> str:
    return "/trips" + ("?" + urlencode(params) if params else "")


async def trip(request: web.Request) -> web.Response:
    now, today = clock.now(request), clock.today(request)
    cache = request.app[CatalogueCacheKey]
    page = await catalogue.trip_page(request.match_info["slug"], today, now, cache)
    seats = tuple((view.departure.id, view.seats_left) for view in page.departures)
    # htmx (a live seats event, web/live.py) gets only the dates and seats fragment
    template = "fragments/trip_dates.html" if wants_fragment(request) else "pages/trip.html"
    key = ("trip", cache.version, today, page.trip.slug, seats, template)

    async def build(draw: Draw) -> Page:
        settings = request.app[SettingsKey]
        data = seo.trip_data(page.trip, page.departures, settings.base_url, settings.upi_payee_name)
        return Page.of(draw(request, template, {"page": page, "trip": page.trip, "structured_data": data}))

    return await cached_page(request, key, build, REVALIDATE)


async def destination(request: web.Request) -> web.Response:
    cache, today = request.app[CatalogueCacheKey], clock.today(request)
    page = await catalogue.destination_page(request.match_info["slug"], today, cache)
    key = ("destination", cache.version, today, page.destination.slug)
    data = seo.destination_data(page.destination, request.app[SettingsKey].base_url)
    context = {"page": page, "destination": page.destination, "structured_data": data}
    return await cached_page(request, key, drawing(request, "pages/destination.html", context), SHORT)


async def media_file(request: web.Request) -> web.StreamResponse:
    """A resized image from the local store; names carry a content hash, so they never change."""
    path_of = getattr(request.app[MediaKey], "path_of", None)  # only local stores serve files
    path = path_of(request.match_info["name"]) if path_of else None
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(
        path, headers={"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "image/webp"}
    )
