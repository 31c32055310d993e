"""Sessions in the database, login and logout, CSRF, and the route guards."""

from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web

from yatri.models import Role
from yatri.models import Session as SessionRow
from yatri.web.auth import require_admin, require_login, safe_next
from yatri.services.accounts import delete_expired_sessions
from yatri.web.sessions import COOKIE_NAME

from tests.helpers import PASSWORD, csrf_from, csrf_in, login, make_user


def session_cookie(client) -> str | None:
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/")).get(COOKIE_NAME)
    return cookie.value if cookie else None


@pytest.fixture
def app(app):
    async def private(request):
        return web.Response(text="private")

    app.router.add_get("/test/private", require_login(private))
    app.router.add_get("/test/staff", require_admin(private))
    return app


async def test_login_rotates_the_session_and_sets_a_safe_cookie(client):
    user = await make_user()
    token = await csrf_from(client, "/login")
    before = session_cookie(client)
    assert before and await SessionRow.all().count() == 1  # the anonymous session holding the token
    response = await client.post(
        "/login",
        data={"email": " Asha@Example.com ", "password": PASSWORD, "csrf_token": token, "next": "/test/private"},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/test/private"
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
    after = session_cookie(client)
    assert after and after != before
    row = await SessionRow.get()
    assert row.user_id == user.id and after not in row.key_hash  # only the hash is stored
    assert (await client.get("/test/private")).status == 200


async def test_wrong_password_and_unknown_email_get_the_same_message(client):
    await make_user()
    answers = []
    for email, password in [("asha@example.com", "wrong-password-1"), ("nobody@example.com", PASSWORD)]:
        token = await csrf_from(client, "/login")
        response = await client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        assert response.status == 422
        html = await response.text()
        assert f'value="{email}"' in html  # what was typed is kept...
        assert password not in html  # ...but never the password
        answers.append("do not match an account" in html)
    assert answers == [True, True]


async def test_logout_destroys_the_session_on_the_server(client):
    user = await make_user()
    token = await login(client, user)
    old_cookie = session_cookie(client)
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert await SessionRow.filter(user_id=user.id).count() == 0
    client.session.cookie_jar.update_cookies({COOKIE_NAME: old_cookie}, client.make_url("/"))
    response = await client.get("/test/private", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login?next=/test/private"


async def test_a_post_without_the_csrf_token_changes_nothing(client):
    user = await make_user()
    await csrf_from(client, "/login")
    response = await client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status == 403
    assert "This form has expired" in await response.text()
    assert await SessionRow.filter(user_id=user.id).count() == 0
    response = await client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status == 403


async def test_htmx_sends_the_token_in_a_header(client):
    user = await make_user()
    token = await login(client, user)
    html = await (await client.get("/")).text()
    assert "hx-headers:inherited=" in html and token in html
    response = await client.post("/logout", headers={"X-CSRF-Token": token, "HX-Request": "true"}, allow_redirects=False)
    assert response.status == 303
    assert await SessionRow.filter(user_id=user.id).count() == 0


async def test_guards(client):
    traveller = await make_user()
    assert (await client.get("/test/staff", allow_redirects=False)).headers["Location"] == "/login?next=/test/staff"
    await login(client, traveller)
    response = await client.get("/test/staff")
    assert response.status == 403
    htmx = await client.get("/test/private", headers={"HX-Request": "true"})
    assert htmx.status == 200


async def test_an_htmx_request_without_login_is_told_to_navigate(client):
    response = await client.get("/test/private?x=1", headers={"HX-Request": "true"}, allow_redirects=False)
    assert response.status == 200 and response.headers["HX-Redirect"] == "/login?next=/test/private?x%3D1"


async def test_a_role_change_rotates_the_session(client):
    user = await make_user()
    await login(client, user)
    before = session_cookie(client)
    user.role = Role.ADMIN
    await user.save()
    assert (await client.get("/test/staff")).status == 200
    assert session_cookie(client) != before
    assert await SessionRow.filter(user_id=user.id).count() == 1


@pytest.mark.parametrize("field, age", [("last_seen_at", timedelta(days=8)), ("expires_at", timedelta(0))])
async def test_idle_and_absolute_expiry_end_the_session(client, field, age):
    user = await make_user()
    await login(client, user)
    now = datetime.now(timezone.utc)
    await SessionRow.filter(user_id=user.id).update(**{field: now - age})
    response = await client.get("/test/private", allow_redirects=False)
    assert response.status == 302
    assert await SessionRow.filter(user_id=user.id).count() == 0


async def test_expired_rows_are_cleaned_up(client, settings):
    user = await make_user()
    await login(client, user)
    now = datetime.now(timezone.utc)
    idle = timedelta(minutes=settings.session_idle_minutes)
    assert await delete_expired_sessions(idle, now) == 0
    assert await delete_expired_sessions(idle, now + timedelta(days=31)) == 1
    assert await SessionRow.all().count() == 0


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/bookings?x=1", "/bookings?x=1"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_accepts_only_local_paths(target, expected):
    assert safe_next(target) == expected


async def test_a_csrf_token_that_is_not_ascii_is_refused_not_a_500(client):
    await csrf_from(client, "/login")
    for sent in ({"data": b"csrf_token=%FF&email=%FE"}, {"data": b"", "headers": {"X-CSRF-Token": "t\u00f6ken"}}):
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sent.pop("headers", {})}
        response = await client.post("/login", headers=headers, allow_redirects=False, **sent)
        assert response.status == 403, sent
        assert "This form has expired" in await response.text()


async def test_a_login_form_refused_as_expired_keeps_the_email_and_next_never_the_password(client):
    user = await make_user()
    await csrf_from(client, "/login")
    data = {"email": user.email, "password": PASSWORD, "next": "/bookings", "csrf_token": "stale"}
    response = await client.post("/login", data=data)
    assert response.status == 403
    html = await response.text()
    assert "This form has expired, so nothing was sent. We kept what you typed" in html
    assert f'value="{user.email}"' in html and 'name="next" value="/bookings"' in html
    assert PASSWORD not in html
    assert await SessionRow.filter(user_id=user.id).count() == 0
    again = await client.post("/login", data={**data, "csrf_token": csrf_in(html)}, allow_redirects=False)
    assert again.status == 303 and again.headers["Location"] == "/bookings"


async def test_an_htmx_post_refused_as_expired_gets_a_fresh_token_and_keeps_its_form(client):
    """The form stays on the page (the answer goes to #flash); static/js/net.js puts the
    fresh token in place, so sending it once more works."""
    user = await make_user()
    await login(client, user)
    response = await client.post("/logout", headers={"X-CSRF-Token": "stale", "HX-Request": "true"})
    assert response.status == 403 and response.headers["HX-Retarget"] == "#flash"
    assert "It is ready again: send it once more" in await response.text()
    fresh = response.headers["X-CSRF-Token"]
    assert fresh and fresh != "stale"
    again = await client.post("/logout", headers={"X-CSRF-Token": fresh, "HX-Request": "true"}, allow_redirects=False)
    assert again.status == 303
    assert await SessionRow.filter(user_id=user.id).count() == 0
