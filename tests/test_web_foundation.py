"""The server's foundation as a visitor and an operator's monitoring see it."""

import gzip
import json
import logging
import re

from yatri.log import JsonFormatter
from yatri.models import Destination, Trip
from yatri.web.middlewares import CSP


async def _trip(title: str, published: bool = True) -> Trip:
    destination, _ = await Destination.get_or_create(slug="manali", defaults={"name": "Manali", "region": "Himachal Pradesh"})
    slug = re.sub(r"\W+", "-", title.lower())
    return await Trip.create(
        slug=slug, title=title, kind="trek", destination=destination, days=3,
        difficulty="moderate", price_paise=1_234_500, summary=f"{title} summary", is_published=published,
    )  # fmt: skip


async def test_home_lists_published_trips_only(client):
    await _trip("Hampta Pass Trek")
    await _trip("Secret Draft Trip", published=False)
    response = await client.get("/")
    assert response.status == 200
    html = await response.text()
    assert "Hampta Pass Trek" in html
    assert "₹12,962.25" in html  # ₹12,345 and 5 % GST: prices are shown with GST
    assert "Secret Draft Trip" not in html


async def test_unknown_page_is_a_friendly_404(client):
    response = await client.get("/no-such-page")
    assert response.status == 404
    html = await response.text()
    assert "Page not found" in html and 'class="site-header"' in html


async def test_wrong_method_is_a_friendly_405_with_allow(client):
    response = await client.post("/")
    assert response.status == 405
    assert "GET" in response.headers["Allow"]
    assert "not available" in await response.text()


async def test_htmx_error_is_a_fragment_retargeted_to_flash(client):
    response = await client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status == 404
    assert response.headers["HX-Retarget"] == "#flash"
    html = await response.text()
    assert "<html" not in html and "flash-error" in html


async def test_api_errors_are_problem_json(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = await response.json(content_type=None)
    assert body["status"] == 404 and body["title"] == "Not Found" and body["type"] == "about:blank"
    assert body["instance"] == "/api/v1/nothing-here"


async def test_unhandled_exception_is_logged_with_request_id_and_hidden(aiohttp_client, app, caplog):
    async def boom(request):
        raise RuntimeError("secret internals")

    app.router.add_get("/boom", boom)
    client = await aiohttp_client(app)
    response = await client.get("/boom", headers={"X-Request-ID": "req-12345678"})
    assert response.status == 500
    html = await response.text()
    assert "secret internals" not in html and "Traceback" not in html
    assert "Something went wrong" in html and "req-12345678" in html
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any("req-12345678" in r.getMessage() and r.exc_info for r in logged)


async def test_request_id_is_echoed_or_made(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-def-1234"})
    assert response.headers["X-Request-ID"] == "abc-def-1234"
    made = (await client.get("/healthz", headers={"X-Request-ID": "bad id!"})).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)


async def test_one_access_log_line_per_request(client, caplog):
    caplog.set_level(logging.INFO, logger="yatri.access")
    await client.get("/healthz", headers={"X-Request-ID": "trace-0001"})
    lines = [r for r in caplog.records if r.name == "yatri.access"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status, line.request_id) == ("GET", "/healthz", 200, "trace-0001")
    assert line.duration_ms >= 0 and "GET /healthz 200" in line.getMessage()


async def test_security_headers_on_pages_and_errors(client):
    for path in ("/", "/missing"):
        headers = (await client.get(path)).headers
        assert headers["Content-Security-Policy"] == CSP
        assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # development


async def test_hsts_in_production(aiohttp_client, settings):
    from dataclasses import replace

    from yatri.app import create_app

    production = replace(settings, env="production", secret_key="x" * 40, base_url="https://yatri.example")
    client = await aiohttp_client(create_app(production))
    assert "max-age=" in (await client.get("/healthz")).headers["Strict-Transport-Security"]


async def test_html_is_compressed(client):
    await _trip("Kedarkantha Winter Trek")
    response = await client.get("/", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Kedarkantha" in gzip.decompress(await response.read()).decode()


async def test_static_files_have_hashed_urls_and_long_cache(client):
    html = await (await client.get("/")).text()
    css_url = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{12})"', html).group(1)
    js_url = re.search(r'src="(/static/vendor/htmx\.min\.js\?v=[0-9a-f]{12})" defer', html).group(1)
    for url in (css_url, js_url):
        response = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Encoding"] == "gzip"
    stale = await client.get("/static/css/site.css?v=000000000000")
    assert stale.headers["Cache-Control"] == "public, max-age=60"
    etag = stale.headers["ETag"]
    assert (await client.get(css_url, headers={"If-None-Match": etag})).status == 304


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/readyz")
    assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_readyz_is_503_when_database_is_gone(aiohttp_client, tmp_path):
    from yatri.app import create_app
    from yatri.settings import Settings

    gone = Settings(database_url="postgres://postgres@127.0.0.1:9/nowhere", var_dir=tmp_path)
    client = await aiohttp_client(create_app(gone))
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable" and "database" in body["reason"]


def test_production_logs_are_json_lines():
    record = logging.LogRecord("yatri.access", logging.INFO, __file__, 1, "GET / 200", None, None)
    record.request_id, record.status = "abc12345", 200
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET / 200" and line["request_id"] == "abc12345" and line["status"] == 200
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


async def test_metrics_count_requests_by_route_pattern(client):
    await client.get("/healthz")
    await client.get("/no/such/page")
    response = await client.get("/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    text = await response.text()
    assert 'yatri_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert "/no/such/page" not in text
    assert 'yatri_http_request_duration_seconds_count{route="/healthz"} 1.0' in text
