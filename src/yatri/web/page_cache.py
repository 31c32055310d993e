"""Rendered catalogue pages kept per process, compressed once, so a repeat visit costs
neither the templates nor gzip.

An entry is keyed by (page, variant, catalogue version): the variant is whatever the
page's markup depends on (filters, the day, seats left on the departures it shows), the
version moves with every catalogue edit (`catalogue.QueryCache`), so an edit is seen at
once by every process. Entries hold the page as rendered for an anonymous visitor; the
only part that differs between visitors, `fragments/site_header.html` (the name, the
CSRF token), is rendered per request and swapped in, so one traveller's header never
reaches another. A page with a flash message is never cached.

The cache is bounded in bytes (least recently used entries go first) and coalesces
misses: while one request renders a missing entry, the others asking for it wait for it.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

import aiohttp_jinja2
from aiohttp import web

HEADER_TEMPLATE = "fragments/site_header.html"
GZIP_LEVEL = 6


@dataclass
class Page:
    """One rendered page: its anonymous body (plain and gzip), its hash and extra headers."""

    plain: bytes
    compressed: bytes
    digest: str
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.plain) + len(self.compressed) + 256

    @classmethod
    def of(cls, response: web.Response, headers: dict[str, str] | None = None) -> Page:
        body = response.body or b""
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        return cls(body, gzip.compress(body, GZIP_LEVEL, mtime=0), digest, response.content_type, headers or {})


class PageCache:
    """Pages by key, at most `max_bytes` of them, misses coalesced."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._filling: dict[Hashable, asyncio.Future[Page]] = {}
        self._anonymous_header: str | None = None

    def anonymous_header(self, request: web.Request) -> str:
        """The header every cached page carries (the same for the whole app), rendered once."""
        if self._anonymous_header is None:
            self._anonymous_header = _header(request, _anonymous(request))
        return self._anonymous_header

    def __len__(self) -> int:
        return len(self._pages)

    async def get(self, key: Hashable, fill: Callable[[], Awaitable[Page]]) -> Page:
        if (page := self._pages.get(key)) is not None:
            self._pages.move_to_end(key)
            self.hits += 1
            return page
        if (waiting := self._filling.get(key)) is not None:
            self.hits += 1
            return await asyncio.shield(waiting)
        self.misses += 1
        future: asyncio.Future[Page] = asyncio.get_running_loop().create_future()
        self._filling[key] = future
        try:
            page = await fill()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else needs to
            raise
        finally:
            del self._filling[key]
        future.set_result(page)
        self._put(key, page)
        return page

    def _put(self, key: Hashable, page: Page) -> None:
        if page.size > self.max_bytes:
            return
        self._pages[key] = page
        self.bytes += page.size
        while self.bytes > self.max_bytes:
            _, old = self._pages.popitem(last=False)
            self.bytes -= old.size


def cacheable(request: web.Request) -> bool:
    """Whether this request may get a cached page: none has a flash message to show."""
    context = request.get(aiohttp_jinja2.REQUEST_CONTEXT_KEY, {})
    return not context.get("messages")


def render_anonymous(request: web.Request, template: str, context: dict) -> web.Response:
    """The page as a visitor who is not signed in and has no session would get it."""
    return aiohttp_jinja2.render_template(template, request, {**context, **_anonymous(request)})


def _anonymous(request: web.Request) -> dict:
    """The template context of a visitor without a session (web.auth.TEMPLATE_DEFAULTS)."""
    defaults = aiohttp_jinja2.get_env(request.app).globals
    return {name: defaults[name] for name in ("current_user", "csrf_token", "messages", "kept")}


def respond(request: web.Request, page: Page, headers: dict[str, str], anonymous_header: str) -> web.Response:
    """The cached page for this request, or 304 when its ETag matches If-None-Match (no
    body built). A visitor with a session (a name, a CSRF token) gets their own header
    swapped in and the body compressed as usual; others get the stored gzip bytes."""
    personal = _header(request) if _is_personal(request) else None
    etag = page.digest if personal is None else f"{page.digest}-{hashlib.blake2b(personal.encode(), digest_size=6).hexdigest()}"
    headers = {**page.headers, **headers, "ETag": f'W/"{etag}"'}
    if _matches(request, etag):
        return web.Response(status=304, headers=headers)
    if personal is not None:
        body = page.plain.replace(anonymous_header.encode(), personal.encode(), 1)
        return web.Response(body=body, content_type=page.content_type, charset="utf-8", headers=headers)
    headers["Vary"] = ", ".join(filter(None, (headers.get("Vary"), "Accept-Encoding")))
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=page.compressed, content_type=page.content_type, charset="utf-8", headers=headers)
    return web.Response(body=page.plain, content_type=page.content_type, charset="utf-8", headers=headers)


def _is_personal(request: web.Request) -> bool:
    context = request.get(aiohttp_jinja2.REQUEST_CONTEXT_KEY, {})
    token = context.get("csrf_token")
    return context.get("current_user") is not None or bool(token is not None and token.exists)


def _matches(request: web.Request, etag: str) -> bool:
    sent = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    return f'W/"{etag}"' in sent or f'"{etag}"' in sent or "*" in sent


def _header(request: web.Request, context: dict | None = None) -> str:
    return aiohttp_jinja2.render_string(HEADER_TEMPLATE, request, context or {})
