"""Catalogue pages: home, /trips with filters, trip and destination pages, media files.

Pages carry a weak ETag (a hash of the body) and answer 304 to a matching
If-None-Match. Pages that show seats left are revalidated on every visit; the trip list
and destination pages may be reused by the browser for a short while.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from yatri.keys import CatalogueCacheKey, MediaKey, SettingsKey
from yatri.services import catalogue, seo
from yatri.services.catalogue_query import parse_filters
from yatri.web import clock
from yatri.web.render import is_htmx, render

REVALIDATE = "private, no-cache"
SHORT = "private, max-age=30"
VARY = "HX-Request, HX-History-Restore-Request, Cookie"
TRIPS_COOKIE = "yatri_trips"  # the last filters and sort of /trips, as a query string
REMEMBER_SECONDS = 90 * 24 * 3600
FILTER_FIELDS = ("q", "destination", "kind", "difficulty", "from", "to", "min_price", "max_price", "sort", "page")


def conditional(request: web.Request, response: web.Response, cache_control: str) -> web.Response:
    """Add a weak ETag and Cache-Control; a repeat request with the same ETag gets 304."""
    etag = 'W/"' + hashlib.blake2b(response.body or b"", digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": VARY}
    match = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    if etag in match or etag.removeprefix("W/") in match or "*" in match:
        return web.Response(status=304, headers=headers)
    response.headers.update(headers)
    return response


async def home(request: web.Request) -> web.Response:
    now, today = clock.now(request), clock.today(request)
    data = await catalogue.home_page(today, now, request.app[CatalogueCacheKey])
    response = render(request, "pages/home.html", {"home": data})
    return conditional(request, response, REVALIDATE)


async def trips(request: web.Request) -> web.Response:
    """The trip list. With HTMX only the results fragment (and the filter messages) goes out,
    with an HX-Push-Url that leaves out empty filters, so the address bar stays readable.
    The last filters and sort are remembered (a cookie); a plain visit to /trips goes back
    to them, and /trips?clear=1 (the form's Clear link) forgets them."""
    if not request.query and (saved := _saved_filters(request)):
        raise web.HTTPFound(_trips_url(saved), headers={"Cache-Control": REVALIDATE, "Vary": VARY})
    cache = request.app[CatalogueCacheKey]
    today = clock.today(request)
    destinations = await catalogue.destination_choices(cache)
    filters, errors = parse_filters(request.query, [d.slug for d in destinations])
    result = await catalogue.search_trips(filters, today, cache, synced=True)
    url = _trips_url(filters.query_params(page=result.page if result.page > 1 else ""))
    context = {
        "result": result,
        "filters": filters,
        "errors": errors,
        "raw": {name: request.query.get(name, "") for name in FILTER_FIELDS},
        "destinations": destinations,
        "kinds": [k.value for k in catalogue.TripKind],
        "difficulties": [d.value for d in catalogue.Difficulty],
        "sorts": catalogue.SORTS,
        "page_url": lambda page: _trips_url(filters.query_params(page=page if page > 1 else "")),
        "oob": is_htmx(request) and not request.headers.get("HX-History-Restore-Request"),
    }
    # The results markup depends only on the filters, the day and the catalogue version:
    # it is rendered once and reused until the catalogue changes.
    key = ("results-html", filters, today, result.page, tuple(sorted(errors.items())), context["oob"])
    context["results_html"] = Markup(
        await cache.get(key, lambda: _render_string("fragments/trip_results.html", request, context))
    )
    if context["oob"]:
        response = web.Response(text=context["results_html"], content_type="text/html")
    else:
        response = render(request, "pages/trips.html", context)
    if context["oob"]:
        response.headers["HX-Push-Url"] = url
    response = conditional(request, response, SHORT)
    _remember_filters(request, response, filters.query_params(page=""))
    return response


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


async def _render_string(template: str, request: web.Request, context: dict) -> str:
    return aiohttp_jinja2.render_string(template, request, context)


def _trips_url(params: dict[str, str]) -> str:
    return "/trips" + ("?" + urlencode(params) if params else "")


async def trip(request: web.Request) -> web.Response:
    now, today = clock.now(request), clock.today(request)
    page = await catalogue.trip_page(request.match_info["slug"], today, now, request.app[CatalogueCacheKey])
    settings = request.app[SettingsKey]
    data = seo.trip_data(page.trip, page.departures, settings.base_url, settings.upi_payee_name, settings.gst_percent)
    response = render(request, "pages/trip.html", {"page": page, "trip": page.trip, "structured_data": data})
    return conditional(request, response, REVALIDATE)


async def destination(request: web.Request) -> web.Response:
    page = await catalogue.destination_page(request.match_info["slug"], clock.today(request), request.app[CatalogueCacheKey])
    data = seo.destination_data(page.destination, request.app[SettingsKey].base_url)
    response = render(request, "pages/destination.html", {"page": page, "destination": page.destination, "structured_data": data})
    return conditional(request, response, SHORT)


async def media_file(request: web.Request) -> web.StreamResponse:
    """A resized image from the local store; names carry a content hash, so they never change."""
    path_of = getattr(request.app[MediaKey], "path_of", None)  # only local stores serve files
    path = path_of(request.match_info["name"]) if path_of else None
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(
        path, headers={"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "image/webp"}
    )
