"""Every /admin route, read from the router: visitors are sent to log in, travellers get
403, admins get through. A route added later is checked without touching this file."""

import re
from datetime import date, timedelta

from yatri.models import Role

from tests.admin_data import make_booking, make_departure, make_trip
from tests.helpers import csrf_from, login, make_user

# Sample values for path parameters by name; anything else gets "1" (rows with id 1 exist).
SAMPLES = {"ref": "YT-A00001", "reference": "YT-A00001", "slug": "hampta-pass"}
_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def admin_routes(app) -> list[tuple[str, str]]:
    routes = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        pattern = info.get("path") or info.get("formatter") or ""
        if route.method != "HEAD" and (pattern == "/admin" or pattern.startswith("/admin/")):
            path = _PARAM.sub(lambda m: SAMPLES.get(m.group(1), "1"), pattern)
            routes.append((route.method, path))
    # Reads before writes, so a write does not change what a later read finds.
    return sorted(set(routes), key=lambda r: (r[0] != "GET", r[1]))


async def seed():
    trip = await make_trip()
    departure = await make_departure(trip, date.today() + timedelta(days=20))
    owner = await make_user("owner@example.com", name="Owner")
    await make_booking(departure, owner, reference="YT-A00001", travellers=[{"full_name": "Owner", "age": 30}])


async def test_the_walker_finds_the_admin_routes(app):
    found = admin_routes(app)
    assert ("GET", "/admin") in found
    assert len(found) >= 1


async def test_visitors_are_sent_to_log_in(client, app):
    await seed()
    token = await csrf_from(client, "/login")  # a visitor's session with a token: CSRF passes, the guard decides
    for method, path in admin_routes(app):
        response = await client.request(
            method, path, data={"csrf_token": token} if method != "GET" else None, allow_redirects=False
        )
        assert response.status in (302, 303), (method, path, response.status)
        location = response.headers["Location"]
        assert location.startswith("/login?next="), (method, path, location)
        if method == "GET":
            assert location == f"/login?next={path.replace('/', '%2F')}" or location == f"/login?next={path}"


async def test_travellers_are_refused(client, app):
    await seed()
    token = await login(client, await make_user("traveller@example.com"))
    for method, path in admin_routes(app):
        response = await client.request(
            method, path, data={"csrf_token": token} if method != "GET" else None, allow_redirects=False
        )
        assert response.status == 403, (method, path, response.status)


async def test_admins_get_through(client, app):
    await seed()
    token = await login(client, await make_user("admin@example.com", role=Role.ADMIN))
    for method, path in admin_routes(app):
        response = await client.request(
            method, path, data={"csrf_token": token} if method != "GET" else None, allow_redirects=False
        )
        assert response.status not in (401, 403) and response.status < 500, (method, path, response.status)
        assert not response.headers.get("Location", "").startswith("/login"), (method, path)


async def test_admin_posts_without_the_csrf_token_are_refused(client, app):
    await seed()
    await login(client, await make_user("admin@example.com", role=Role.ADMIN))
    for method, path in admin_routes(app):
        if method != "GET":
            response = await client.request(method, path, data={}, allow_redirects=False)
            assert response.status == 403, (method, path, response.status)
            assert "This form has expired" in await response.text()
