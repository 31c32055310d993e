"""Every route in the router, HTML and API, gets hostile requests: malformed bodies,
query strings and path values, wrong content types, duplicate keys, over-long values.

The invariant, on both databases: never a 5xx or a stack trace; HTML routes answer
HTML and the API answers application/problem+json for every refusal; a refused
request saves nothing. A route added later is fuzzed without touching this file.

`YATRI_FUZZ_EXAMPLES` sets the examples per route (CI: a few; `bench/fuzz.py` runs many).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import urllib.request
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yatri.app import create_app
from yatri.db import apply_migrations
from yatri.settings import Settings

from tests.conftest import DB_KINDS, create_postgres_database, drop_postgres_database
from tests.fuzz.requests import Request, api_fields, bodies, paths, query_strings, template_fields
from tests.fuzz.server import FuzzServer

# Routes for other machines (the payment gateway), which answer JSON.
MACHINE_PREFIXES = ("/payments/webhook/",)
# How a refusal shows on an HTML page: next to a field, in the flash area, or as the page.
SHOWN_ERRORS = (b'class="field-error"', b"flash-error", b"error-page")
EXAMPLES = int(os.environ.get("YATRI_FUZZ_EXAMPLES", "12"))
_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def router_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route, read from the app's router."""
    app = create_app(Settings(database_url="sqlite://:memory:"))
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("path") or info.get("formatter")
        if template and route.method != "HEAD":
            found.add((route.method, _PARAM.sub(lambda m: "{" + m.group(1) + "}", template)))
    return sorted(found)


ROUTES = router_routes()


@pytest.fixture(scope="module", params=DB_KINDS)
def server(request, tmp_path_factory):
    """A seeded server of its own per database kind (its own PostgreSQL database, so the
    other tests' clean-ups never touch it)."""
    var_dir = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        path = var_dir / "fuzz.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url, name = f"sqlite://{path}", None
    else:
        name = f"yatri_fuzz_{uuid.uuid4().hex[:10]}"
        url = asyncio.run(create_postgres_database(name))
        asyncio.run(apply_migrations(url))
    with FuzzServer(url, var_dir / "var") as running:
        with urllib.request.urlopen(f"http://127.0.0.1:{running.port}/api/openapi.json", timeout=10) as answer:
            document = json.load(answer)
        running.fields = sorted(set(template_fields()) | set(api_fields(document)))
        yield running
    if name:
        asyncio.run(drop_postgres_database(name))


def send(server: FuzzServer, request: Request) -> tuple[int, dict[str, str], bytes]:
    identity = next(i for i in server.identities if i.name == request.identity)
    headers = {"Cookie": server.cookie_header(identity), "Host": f"127.0.0.1:{server.port}"}
    if request.path.startswith("/api/") and identity.bearer:
        headers["Authorization"] = f"Bearer {identity.bearer}"
    if request.content_type:
        headers["Content-Type"] = request.content_type
    if request.method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(request.body))
        if request.method == "PATCH":
            headers["If-Match"] = '"v1"'
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(request.method, request.path, body=request.body or None, headers=headers)
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        if headers.get("content-type", "").startswith("text/event-stream"):  # a live stream (web/live.py) never ends
            return response.status, headers, b""
        return response.status, headers, response.read()
    finally:
        connection.close()


def requests_for(server: FuzzServer, method: str, template: str) -> st.SearchStrategy[Request]:
    api = template.startswith("/api/")

    @st.composite
    def build(draw) -> Request:
        identity = draw(st.sampled_from(["visitor", "traveller", "admin", "admin"]))
        with_csrf = draw(st.booleans() | st.just(True))
        path = draw(paths(template, server.seed.values))
        query = draw(query_strings(server.fields) | st.just(""))
        content_type, body = None, b""
        if method in ("POST", "PUT", "PATCH"):
            csrf = next(i.csrf for i in server.identities if i.name == identity) if with_csrf else None
            content_type, body = draw(bodies(server.fields, api=api, csrf=csrf))
        return Request(method, path + (f"?{query}" if query else ""), identity, with_csrf, content_type, body)

    return build()


def check(server: FuzzServer, request: Request, status: int, headers: dict[str, str], body: bytes, before: dict, after: dict):
    assert status < 500, f"{status} for {request!r}: {body[:500]!r}"
    assert b"Traceback" not in body, f"a stack trace for {request!r}"
    if status < 400:
        return
    content_type = headers.get("content-type", "")
    if request.path.startswith("/api/"):
        assert content_type.startswith("application/problem+json"), f"{status} {content_type} for {request!r}"
        problem = json.loads(body)
        assert problem["status"] == status and problem["title"], problem
    elif request.path.startswith(MACHINE_PREFIXES):
        assert content_type.startswith(("application/json", "application/problem+json")), f"{status} {content_type} for {request!r}"
    else:
        assert content_type.startswith("text/html"), f"{status} {content_type} for {request!r}"
        assert any(mark in body for mark in SHOWN_ERRORS), f"no message shown in the {status} page for {request!r}"
    changed = [table for table in after if after[table] != before.get(table)]
    assert not changed, f"{status} refused {request!r} but changed {changed}"


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {t}" for m, t in ROUTES])
def test_hostile_requests_get_a_clear_answer_and_change_nothing(server, method, template):
    state = {"before": server.fingerprint()}

    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=os.environ.get("YATRI_FUZZ_RANDOM") != "1",
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(requests_for(server, method, template))
    def fuzz(request: Request):
        status, headers, body = send(server, request)
        after = server.fingerprint()
        try:
            check(server, request, status, headers, body, state["before"], after)
        finally:
            state["before"] = after
            server.restore_sessions()

    fuzz()
