"""Sign-up, email verification, password reset, the account page and password change,
through the real app with mail received by a real SMTP server."""

import aiohttp
import pytest
from yarl import URL

from yatri.errors import Unauthorized
from yatri.models import AccountToken, AuditLog, User
from yatri.models import Session as SessionRow
from yatri.services import accounts, tokens

from tests.helpers import PASSWORD, app, clock, csrf_from, login, make_user  # noqa: F401 - fixtures

NEW_PASSWORD = "monsoon-over-munnar-7"


def local(link: str) -> str:
    return URL(link).path_qs


async def sign_up(client, **fields) -> aiohttp.ClientResponse:
    form = {"name": "Asha Rao", "email": "asha@example.com", "phone": "", "password": PASSWORD, **fields}
    form["csrf_token"] = await csrf_from(client, "/signup")
    return await client.post("/signup", data=form, allow_redirects=False)


def another_device(client) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=client.make_url("/"), cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_signup_logs_in_and_the_emailed_link_verifies_once(client, smtp_outbox):
    response = await sign_up(client, name="  Asha   Rao ", email=" Asha@Example.COM ", phone="+91 98765-43210")
    assert response.status == 303
    user = await User.get(email="asha@example.com")
    assert (user.name, user.phone, user.email_verified) == ("Asha Rao", "+919876543210", False)
    assert user.password_hash.startswith("$argon2")
    page = await (await client.get("/account")).text()
    assert "asha@example.com" in page and "not confirmed yet" in page

    [message] = await smtp_outbox.wait_for(1)
    assert message["To"] == "asha@example.com"
    [link] = smtp_outbox.links(message)
    response = await client.get(local(link), allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/account"
    await user.refresh_from_db()
    assert user.email_verified
    assert "is confirmed" in await (await client.get("/account")).text()

    again = await client.get(local(link))
    assert again.status == 400 and "expired or was already used" in await again.text()


async def test_signup_errors_are_shown_next_to_each_field_with_the_typed_values(client):
    response = await sign_up(client, name=" ", email="asha@", phone="12ab", password="short")
    assert response.status == 422
    html = await response.text()
    for field, message in [
        ("name", "Enter your name."),
        ("email", "Enter an email address like name@example.com."),
        ("phone", "Enter a phone number of 10 to 15 digits"),
        ("password", "Use at least 10 characters"),
    ]:
        assert f'id="f-{field}" name="{field}"' in html
        assert f'<p class="field-error" id="f-{field}-error">{message}' in html
    assert 'value="asha@"' in html and 'value="12ab"' in html
    assert "short" not in html
    assert await User.all().count() == 0


@pytest.mark.parametrize("password", ["qwertyuiop", "Password123", "1234567890"])
async def test_signup_refuses_a_common_password(client, password):
    response = await sign_up(client, password=password)
    assert response.status == 422
    assert "one of the most common" in await response.text()
    assert not await User.exists(email="asha@example.com")


async def test_signup_refuses_an_email_that_has_an_account_in_any_case(client):
    await make_user("asha@example.com")
    response = await sign_up(client, email="ASHA@example.com ", name="Someone Else")
    assert response.status == 422
    html = await response.text()
    assert "already an account with this email" in html and 'value="Someone Else"' in html
    assert await User.all().count() == 1


async def test_a_verification_link_expires_after_two_days(client, clock):
    user = await make_user(verified=False)
    token = await accounts.issue_token(user, accounts.TokenPurpose.VERIFY_EMAIL, clock.now)
    clock.move(days=2, seconds=1)
    response = await client.get(f"/verify-email?token={token}")
    assert response.status == 400
    await user.refresh_from_db()
    assert not user.email_verified


async def test_a_new_verification_link_can_be_asked_for(client, smtp_outbox):
    user = await make_user(verified=False)
    token = await login(client, user)
    response = await client.post("/account/verify-email", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    [message] = await smtp_outbox.wait_for(1)
    assert (await client.get(local(smtp_outbox.links(message)[0]))).status == 200
    await user.refresh_from_db()
    assert user.email_verified


async def request_reset(client, email: str) -> str:
    token = await csrf_from(client, "/password-reset")
    response = await client.post("/password-reset", data={"email": email, "csrf_token": token})
    assert response.status == 200
    return (await response.text()).replace(email, "EMAIL")


async def test_the_reset_request_answers_the_same_whether_or_not_the_email_has_an_account(client, smtp_outbox):
    await make_user("asha@example.com")
    known = await request_reset(client, "Asha@example.com")
    unknown = await request_reset(client, "nobody@example.com")
    strip = lambda html: html.split('<main id="main">')[1].split("</main>")[0]  # noqa: E731 (the CSRF token differs)
    assert strip(known) == strip(unknown)
    assert "we have sent it a link" in known
    [message] = await smtp_outbox.wait_for(1)
    assert message["To"] == "asha@example.com"
    assert await AccountToken.all().count() == 1


async def test_a_reset_link_sets_a_new_password_once_and_ends_every_session(client, smtp_outbox):
    user = await make_user()
    async with another_device(client) as phone:
        await login(phone, user)
        await request_reset(client, user.email)
        [message] = await smtp_outbox.wait_for(1)
        path = local(smtp_outbox.links(message)[0])
        assert path.startswith("/password-reset/")
        form_page = await client.get(path)
        assert form_page.status == 200
        token = await csrf_from(client, path)

        weak = await client.post(path, data={"password": "qwertyuiop", "csrf_token": token})
        assert weak.status == 422 and "one of the most common" in await weak.text()

        response = await client.post(path, data={"password": NEW_PASSWORD, "csrf_token": token}, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/account"
        assert (await phone.get("/account", allow_redirects=False)).status == 302  # logged out there
    assert await SessionRow.filter(user_id=user.id).count() == 1  # only the one just started
    assert (await client.get("/account")).status == 200
    assert await AuditLog.filter(entity="user", entity_id=str(user.id), action="password_reset").exists()

    token = await csrf_from(client, "/account")  # the session changed at login
    again = await client.post(path, data={"password": "another-good-pass-1", "csrf_token": token})
    assert again.status == 400 and "expired or was already used" in await again.text()
    await user.refresh_from_db()
    assert accounts.verify_password(user.password_hash, NEW_PASSWORD)


async def test_a_reset_link_expires_after_an_hour(client, clock):
    user = await make_user()
    _, raw = await accounts.request_password_reset(user.email, clock.now)
    clock.move(minutes=59)
    assert (await client.get(f"/password-reset/{raw}")).status == 200
    clock.move(minutes=1, seconds=1)
    response = await client.get(f"/password-reset/{raw}")
    assert response.status == 400 and "Ask for a new link" in await response.text()
    token = await csrf_from(client, "/password-reset")
    response = await client.post(f"/password-reset/{raw}", data={"password": NEW_PASSWORD, "csrf_token": token})
    assert response.status == 400
    await user.refresh_from_db()
    assert accounts.verify_password(user.password_hash, PASSWORD)


async def test_the_account_page_needs_a_login(client):
    response = await client.get("/account", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login?next=/account"


async def test_the_account_page_edits_name_and_phone(client):
    user = await make_user()
    token = await login(client, user)
    bad = await client.post("/account", data={"name": "Asha R", "phone": "call me", "csrf_token": token})
    assert bad.status == 422
    html = await bad.text()
    assert 'value="Asha R"' in html and 'value="call me"' in html and "10 to 15 digits" in html
    await user.refresh_from_db()
    assert (user.name, user.phone, user.version) == ("Asha Rao", None, 1)

    response = await client.post("/account", data={"name": "Asha R", "phone": "98765 43210", "csrf_token": token})
    assert response.status == 200 and "Your details are saved" in await response.text()
    await user.refresh_from_db()
    assert (user.name, user.phone, user.version) == ("Asha R", "9876543210", 2)


async def test_a_password_change_ends_the_other_sessions_only(client):
    user = await make_user()
    token = await login(client, user)
    async with another_device(client) as phone:
        await login(phone, user)
        wrong = await client.post(
            "/account/password",
            data={"current_password": "not-my-password", "new_password": "short", "csrf_token": token},
        )
        assert wrong.status == 422
        html = await wrong.text()
        assert "That is not your current password." in html and "Use at least 10 characters" in html
        assert "not-my-password" not in html
        assert await SessionRow.filter(user_id=user.id).count() == 2

        response = await client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": token},
        )
        assert response.status == 200 and "Your password is changed" in await response.text()
        assert (await phone.get("/account", allow_redirects=False)).status == 302
    assert (await client.get("/account", allow_redirects=False)).status == 200
    assert await SessionRow.filter(user_id=user.id).count() == 1
    await user.refresh_from_db()
    assert accounts.verify_password(user.password_hash, NEW_PASSWORD)
    await client.post("/logout", data={"csrf_token": token})
    await login(client, user, NEW_PASSWORD)


async def test_an_account_without_a_password_can_set_one(client):
    user = await make_user()
    token = await login(client, user)
    await User.filter(id=user.id).update(password_hash=None)  # as a Google-only account
    page = await (await client.get("/account")).text()
    assert "Set a password" in page and "current_password" not in page
    response = await client.post("/account/password", data={"new_password": NEW_PASSWORD, "csrf_token": token})
    assert response.status == 200
    await user.refresh_from_db()
    assert accounts.verify_password(user.password_hash, NEW_PASSWORD)


async def test_reset_mails_are_limited_to_three_an_hour_per_account(client, clock, smtp_outbox):
    await make_user()
    for _ in range(4):
        assert "we have sent it a link" in await request_reset(client, "asha@example.com")
    await smtp_outbox.wait_for(3)
    clock.move(hours=1, seconds=1)
    await request_reset(client, "asha@example.com")
    await smtp_outbox.wait_for(4)
    assert len(smtp_outbox) == 4


async def test_changing_or_resetting_the_password_revokes_api_refresh_tokens(client, clock, settings):
    user = await make_user()
    first = await tokens.issue_tokens(user, settings, clock.now)
    await accounts.change_password(user, PASSWORD, NEW_PASSWORD, clock.now)
    with pytest.raises(Unauthorized):
        await tokens.refresh_tokens(first.refresh_token, settings, clock.now)

    second = await tokens.issue_tokens(user, settings, clock.now)
    _, raw = await accounts.request_password_reset(user.email, clock.now)
    await accounts.reset_password(raw, "yet-another-pass-42", clock.now)
    with pytest.raises(Unauthorized):
        await tokens.refresh_tokens(second.refresh_token, settings, clock.now)


async def test_account_forms_without_the_csrf_token_change_nothing(client, smtp_outbox):
    user = await make_user()
    await login(client, user)
    posts = [
        ("/signup", {"name": "Ravi", "email": "ravi@example.com", "password": NEW_PASSWORD}),
        ("/account", {"name": "Changed", "phone": ""}),
        ("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        ("/password-reset", {"email": user.email}),
    ]
    for path, form in posts:
        response = await client.post(path, data=form)
        assert response.status == 403 and "This form has expired" in await response.text()
    await user.refresh_from_db()
    assert user.name == "Asha Rao" and accounts.verify_password(user.password_hash, PASSWORD)
    assert await User.all().count() == 1 and await AccountToken.all().count() == 0 and len(smtp_outbox) == 0


async def test_asking_for_many_verification_links_is_limited(client, smtp_outbox):
    user = await make_user(verified=False)
    token = await login(client, user)
    pages = [await (await client.post("/account/verify-email", data={"csrf_token": token})).text() for _ in range(4)]
    assert all("We sent a new link" in page for page in pages[:3])
    assert "We sent several links in the last hour" in pages[3]
    await smtp_outbox.wait_for(3)
    assert len(smtp_outbox) == 3
