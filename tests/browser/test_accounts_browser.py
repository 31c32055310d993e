"""A traveller in Chromium: signs up, confirms the email from the link in the mail, logs
out and in, edits the account; and signs in with (a local stand-in for) Google."""

import pytest
from playwright.async_api import expect

from yatri.keys import DatabaseKey
from yatri.models import User
from yatri.settings import Settings

from tests.helpers import make_user
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET
from tests.smtp import free_port

PASSWORD = "chai-at-chopta-2026"


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def settings(database_url, tmp_path, port, smtp_outbox, provider) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        base_url=f"http://127.0.0.1:{port}",
        smtp_url=smtp_outbox.url,
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        oidc_metadata_url=provider.metadata_url,
    )


async def test_sign_up_verify_log_out_log_in_and_edit_the_account(aiohttp_server, app, port, page, smtp_outbox):
    server = await aiohttp_server(app, port=port)
    await page.goto(str(server.make_url("/")))
    await page.click("header >> text=Sign up")
    await page.fill("#f-name", "Kavya Iyer")
    await page.fill("#f-email", " Kavya@Example.com ")
    await page.fill("#f-password", "too-short")
    await page.click("main button[type=submit]")
    await expect(page.locator("#f-password-error")).to_contain_text("at least 10 characters")
    await expect(page.locator("#f-name")).to_have_value("Kavya Iyer")  # what was typed is kept
    await page.fill("#f-password", PASSWORD)
    await page.click("main button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("We sent a link to kavya@example.com")

    [message] = await smtp_outbox.wait_for(1)
    [link] = smtp_outbox.links(message)
    await page.goto(link)
    await expect(page.locator("#flash")).to_contain_text("kavya@example.com is confirmed")
    await expect(page.locator(".account-email")).to_contain_text("confirmed")

    await page.click("header >> text=Log out")
    await expect(page.locator("header")).to_contain_text("Log in")
    await page.click("header >> text=Log in")
    await page.fill("#f-email", "kavya@example.com")
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Welcome back, Kavya Iyer.")

    await page.click("header >> text=Kavya Iyer")
    await page.fill("#f-name", "Kavya S. Iyer")
    await page.fill("#f-phone", "+91 98450 12345")
    await page.click("form[action='/account'] button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Your details are saved.")
    await expect(page.locator("#f-phone")).to_have_value("+919845012345")
    await expect(page.locator("header")).to_contain_text("Kavya S. Iyer")
    # Chromium logs the refused short password's 422 as a failed load; nothing else may complain.
    assert [p for p in page.problems if "status of 422" not in p] == []


async def test_sign_in_with_google_against_the_local_provider(aiohttp_server, app, port, page):
    server = await aiohttp_server(app, port=port)
    await page.goto(str(server.make_url("/login")))
    await page.click("text=Sign in with Google")
    await expect(page.locator("#flash")).to_contain_text("Welcome, Meera Nair.")
    await expect(page.locator("header")).to_contain_text("Meera Nair")
    with app[DatabaseKey]:
        user = await User.get(email="meera.nair@gmail.com")
    assert user.google_sub == "109876543210" and user.email_verified
    assert page.problems == []


async def test_a_forgotten_password_is_reset_from_the_emailed_link(aiohttp_server, app, port, page, smtp_outbox):
    server = await aiohttp_server(app, port=port)
    with app[DatabaseKey]:
        await make_user("kavya@example.com", name="Kavya Iyer")
    await page.goto(str(server.make_url("/login")))
    await page.click("text=Forgot your password?")
    await page.fill("#f-email", "kavya@example.com")
    await page.click("main button[type=submit]")
    await expect(page.locator("main")).to_contain_text("If there is an account for kavya@example.com")

    [message] = await smtp_outbox.wait_for(1)
    await page.goto(smtp_outbox.links(message)[0])
    await page.fill("#f-password", PASSWORD)
    await page.click("main button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Your password is changed, and you are logged in.")

    await page.click("header >> text=Log out")
    await page.goto(str(server.make_url("/login")))
    await page.fill("#f-email", "kavya@example.com")
    await page.fill("#f-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Welcome back, Kavya Iyer.")
    assert page.problems == []
