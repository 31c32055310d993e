"""For search engines and link previews: /sitemap.xml, /robots.txt, and the canonical
address every page names in its <head>."""

from __future__ import annotations

from datetime import timezone
from xml.sax.saxutils import escape

from aiohttp import web

from yatri.keys import SettingsKey
from yatri.services import seo

# Pages only for one signed-in person, or forms: not for an index.
PRIVATE_PATHS = ("/admin", "/account", "/bookings", "/departures/", "/password-reset", "/verify-email", "/auth/", "/api/")


async def page_context(request: web.Request) -> dict:
    """aiohttp-jinja2 context processor: this page's canonical URL (its path without the
    query, so filtered and tracked copies point at one page)."""
    return {"canonical_url": request.app[SettingsKey].base_url + request.path}


async def sitemap(request: web.Request) -> web.Response:
    base_url = request.app[SettingsKey].base_url
    entries = await seo.sitemap_entries()
    newest = max((e.updated_at for e in entries), default=None)
    rows = [_url(base_url + "/", newest), _url(base_url + "/trips", newest)]
    rows += [_url(base_url + e.path, e.updated_at) for e in entries]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "".join(rows) + "</urlset>\n"
    )
    return web.Response(
        text=body, content_type="application/xml", charset="utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )


def _url(location: str, updated_at) -> str:
    lastmod = f"<lastmod>{updated_at.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}</lastmod>" if updated_at else ""
    return f"  <url><loc>{escape(location)}</loc>{lastmod}</url>\n"


async def robots(request: web.Request) -> web.Response:
    base_url = request.app[SettingsKey].base_url
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "", f"Sitemap: {base_url}/sitemap.xml", ""]
    return web.Response(text="\n".join(lines), content_type="text/plain", headers={"Cache-Control": "public, max-age=86400"})
