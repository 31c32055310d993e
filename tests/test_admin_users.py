"""/admin/users: search, promote, demote, never the last admin; a role change ends the
user's sessions and leaves an audit row."""

import re
from contextlib import asynccontextmanager

from aiohttp import ClientSession, CookieJar

from tests.helpers import login, make_user
from yatri.models import AuditLog, Role, Session, User

HX = {"HX-Request": "true"}


@asynccontextmanager
async def other_browser(client):
    async with ClientSession(base_url=str(client.make_url("/")), cookie_jar=CookieJar(unsafe=True)) as other:
        yield other


async def test_users_are_listed_and_found_by_name_or_email(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    await make_user("asha@example.com", name="Asha Rao")
    await make_user("ravi@trekmail.in", name="Ravi Kumar")
    await login(client, admin)

    everyone = await (await client.get("/admin/users")).text()
    assert all(name in everyone for name in ("Priya Ops", "Asha Rao", "Ravi Kumar"))
    by_name = await (await client.get("/admin/users", params={"q": "asha"})).text()
    assert "asha@example.com" in by_name and "Ravi Kumar" not in by_name
    by_email = await (await client.get("/admin/users", params={"q": "TREKMAIL"})).text()
    assert "Ravi Kumar" in by_email and "Asha Rao" not in by_email
    admins = await (await client.get("/admin/users", params={"role": "admin"})).text()
    assert "Priya Ops" in admins and "Asha Rao" not in admins
    nobody = await (await client.get("/admin/users", params={"q": "nobody-here"})).text()
    assert "Nobody matches" in nobody


async def test_the_user_list_is_paginated_keeping_the_search(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    for n in range(30):
        await make_user(f"guest{n:02d}@example.com", name=f"Guest {n:02d}")
    await login(client, admin)
    first = await (await client.get("/admin/users", params={"q": "guest"})).text()
    assert "Guest 00" in first and "Guest 29" not in first and "1–25 of 30" in first
    assert 'href="?q=guest&amp;page=2"' in first, re.findall(r"<nav class=\"pager.*?</nav>", first, re.S)
    second = await (await client.get("/admin/users", params={"q": "guest", "page": "2"})).text()
    assert "Guest 29" in second and "Guest 00" not in second and "26–30 of 30" in second


async def test_promoting_a_traveller_ends_their_sessions_and_is_audited(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    asha = await make_user("asha@example.com", name="Asha Rao")
    async with other_browser(client) as theirs:
        await login(theirs, asha)
        assert (await theirs.get("/admin", allow_redirects=False)).status == 403
        token = await login(client, admin)

        response = await client.post(f"/admin/users/{asha.id}/role", data={"role": "admin", "csrf_token": token, "next": "/admin/users?q=asha"}, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/admin/users?q=asha"
        page = await (await client.get(response.headers["Location"])).text()
        assert "Asha Rao is now an admin" in page

        assert (await User.get(id=asha.id)).role == Role.ADMIN
        assert not await Session.filter(user_id=asha.id).exists()
        # Their old cookie no longer signs them in: they log in again and get a new session.
        again = await theirs.get("/admin", allow_redirects=False)
        assert again.status == 302 and again.headers["Location"].startswith("/login")
        await login(theirs, asha)
        assert (await theirs.get("/admin")).status == 200

    row = await AuditLog.get(entity="user", entity_id=str(asha.id), action="role_changed")
    assert (row.actor_id, row.from_state, row.to_state) == (admin.id, "traveller", "admin")
    assert row.data["before"] == {"role": "traveller"} and row.data["after"] == {"role": "admin"}


async def test_demoting_an_admin_with_htmx_swaps_the_row(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    ravi = await make_user("ravi@example.com", name="Ravi Desk", role=Role.ADMIN)
    token = await login(client, admin)
    response = await client.post(f"/admin/users/{ravi.id}/role", data={"role": "traveller", "csrf_token": token}, headers=HX)
    html = await response.text()
    assert response.status == 200 and html.lstrip().startswith(f'<tr id="user-{ravi.id}">') and "<html" not in html
    assert "Traveller" in html and "Make admin" in html
    assert (await User.get(id=ravi.id)).role == Role.TRAVELLER


async def test_the_last_admin_cannot_be_demoted(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    await make_user("gone@example.com", name="Gone Admin", role=Role.ADMIN)
    await User.filter(email="gone@example.com").update(is_active=False)  # a disabled admin does not count
    token = await login(client, admin)

    response = await client.post(f"/admin/users/{admin.id}/role", data={"role": "traveller", "csrf_token": token}, headers=HX)
    html = await response.text()
    assert response.status == 409 and html.lstrip().startswith(f'<tr id="user-{admin.id}">')
    assert "Priya Ops is the last admin" in html and "make someone else an admin first" in html

    plain = await client.post(f"/admin/users/{admin.id}/role", data={"role": "traveller", "csrf_token": token})
    assert plain.status == 200 and "Priya Ops is the last admin" in await plain.text()
    assert (await User.get(id=admin.id)).role == Role.ADMIN
    assert not await AuditLog.filter(entity="user", action="role_changed").exists()


async def test_an_admin_who_makes_themselves_a_traveller_is_signed_out(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    await make_user("ravi@example.com", name="Ravi Desk", role=Role.ADMIN)
    token = await login(client, admin)
    response = await client.post(f"/admin/users/{admin.id}/role", data={"role": "traveller", "csrf_token": token}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert (await User.get(id=admin.id)).role == Role.TRAVELLER
    assert (await client.get("/admin", allow_redirects=False)).headers["Location"].startswith("/login")


async def test_an_unknown_role_is_refused_with_a_message(client):
    admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    asha = await make_user("asha@example.com", name="Asha Rao")
    token = await login(client, admin)
    response = await client.post(f"/admin/users/{asha.id}/role", data={"role": "owner", "csrf_token": token}, headers=HX)
    assert response.status == 422 and "Choose admin or traveller" in await response.text()
    assert (await User.get(id=asha.id)).role == Role.TRAVELLER
