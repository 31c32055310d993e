"""Sign in with Google, walked through the whole redirect flow against a local OpenID
provider with authlib's real client, including every way the answer can be wrong."""

import logging
import time
from datetime import datetime, timedelta, timezone

import aiohttp
import httpx2
import pytest
from yarl import URL

from yatri.models import User
from yatri.models import Session as SessionRow
from yatri.services import accounts
from yatri.services.google import GoogleSignInFailed, OidcProvider
from yatri.settings import Settings

from tests.helpers import PASSWORD, make_user
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, new_key
from tests.smtp import free_port


@pytest.fixture
def settings(database_url, tmp_path, provider) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,
        oidc_metadata_url=provider.metadata_url,
    )


async def to_provider(client, path: str = "/auth/google?next=/account") -> URL:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 302, await response.text()
    return URL(response.headers["Location"])


async def provider_answer(authorize: URL) -> URL:
    """What the provider sends the browser back to (the app's callback)."""
    async with aiohttp.ClientSession() as browser:
        response = await browser.get(authorize, allow_redirects=False)
        assert response.status == 302, await response.text()
        return URL(response.headers["Location"])


async def sign_in(client, tamper=lambda url: url) -> aiohttp.ClientResponse:
    callback = tamper(await provider_answer(await to_provider(client)))
    assert callback.path == "/auth/google/callback"
    return await client.get(callback.path_qs, allow_redirects=False)


async def signed_in_as(client) -> str | None:
    response = await client.get("/account", allow_redirects=False)
    if response.status != 200:
        return None
    user = await User.get(id=(await SessionRow.filter(user_id__not_isnull=True).first()).user_id)
    return user.email


async def test_the_request_carries_state_nonce_and_pkce_and_comes_back_to_base_url(client, provider):
    authorize = await to_provider(client)
    assert str(authorize).startswith(f"{provider.url}/authorize?")
    q = authorize.query
    assert q["client_id"] == CLIENT_ID and q["response_type"] == "code" and q["scope"] == "openid email profile"
    assert q["redirect_uri"] == "http://127.0.0.1:8080/auth/google/callback"
    assert len(q["state"]) >= 30 and len(q["nonce"]) >= 30 and q["code_challenge_method"] == "S256"


async def test_a_new_google_user_gets_a_verified_account_and_is_signed_in(client, provider):
    response = await sign_in(client)
    assert response.status == 303 and response.headers["Location"] == "/account"
    user = await User.get(email="meera.nair@gmail.com")
    assert (user.name, user.google_sub, user.email_verified, user.password_hash) == (
        "Meera Nair", "109876543210", True, None,
    )  # fmt: skip
    assert await signed_in_as(client) == "meera.nair@gmail.com"
    assert "Set a password" in await (await client.get("/account")).text()


async def test_a_verified_account_with_the_same_email_is_linked_and_keeps_its_password(client, provider):
    existing = await make_user("meera.nair@gmail.com", name="Meera N")
    assert (await sign_in(client)).status == 303
    await existing.refresh_from_db()
    assert existing.google_sub == "109876543210" and existing.name == "Meera N"
    assert accounts.verify_password(existing.password_hash, PASSWORD)
    assert await User.all().count() == 1


async def test_linking_an_unverified_account_drops_the_password_nobody_proved(client, provider):
    squatter = await make_user("meera.nair@gmail.com", verified=False)
    assert (await sign_in(client)).status == 303
    await squatter.refresh_from_db()
    assert squatter.email_verified and squatter.password_hash is None


async def test_a_returning_user_is_found_by_issuer_and_subject_even_with_a_new_email(client, provider):
    user = await make_user("old@example.com")
    await User.filter(id=user.id).update(oidc_issuer=provider.url, google_sub="109876543210")
    assert (await sign_in(client)).status == 303
    assert await signed_in_as(client) == "old@example.com"
    assert await User.all().count() == 1


async def test_the_same_subject_from_another_issuer_is_another_identity(client, provider):
    other = await make_user("old@example.com")
    await User.filter(id=other.id).update(oidc_issuer="https://accounts.google.com", google_sub="109876543210")
    assert (await sign_in(client)).status == 303
    assert await signed_in_as(client) == "meera.nair@gmail.com"
    new = await User.get(email="meera.nair@gmail.com")
    assert (new.oidc_issuer, new.google_sub) == (provider.url, "109876543210")
    assert (await User.get(id=other.id)).google_sub == "109876543210"  # untouched


async def test_email_claims_left_out_of_the_id_token_are_read_from_userinfo(client, provider, caplog):
    provider.email_in_id_token = False
    with caplog.at_level(logging.INFO, logger="yatri.google"):
        response = await sign_in(client)
    assert response.status == 303 and provider.userinfo_requests == 1
    assert await signed_in_as(client) == "meera.nair@gmail.com"
    user = await User.get(email="meera.nair@gmail.com")
    assert (user.oidc_issuer, user.google_sub, user.email_verified) == (provider.url, "109876543210", True)
    assert "the ID token has no email or email_verified claim: reading the userinfo endpoint" in caplog.text


async def test_only_email_verified_missing_is_read_from_userinfo_and_named_in_the_log(client, provider, caplog):
    provider.claims = {"email": "Meera.Nair@Gmail.com"}
    provider.user = {k: v for k, v in provider.user.items() if k != "email_verified"}
    provider.userinfo = {"email_verified": True}
    with caplog.at_level(logging.INFO, logger="yatri.google"):
        assert (await sign_in(client)).status == 303
    assert "the ID token has no email_verified claim" in caplog.text and provider.userinfo_requests == 1


async def test_userinfo_about_another_subject_is_refused(client, provider, caplog):
    provider.email_in_id_token = False
    provider.userinfo = {"sub": "someone-else", "email": "mallory@example.com"}
    with caplog.at_level(logging.WARNING, logger="yatri.google"):
        response = await sign_in(client)
    await refused(client, response, 401, "We could not confirm your Google sign-in")
    assert "Google sign-in refused: userinfo_sub" in caplog.text
    assert await User.all().count() == 0


async def test_missing_email_claims_and_no_userinfo_endpoint_are_refused_clearly(client, provider, caplog):
    provider.email_in_id_token, provider.lists_userinfo = False, False
    with caplog.at_level(logging.WARNING, logger="yatri.google"):
        response = await sign_in(client)
    await refused(client, response, 401, "Google did not tell us your email address")
    assert "the ID token has no email or email_verified claim and the provider lists no userinfo_endpoint" in caplog.text
    assert await User.all().count() == 0


async def refused(client, response, status: int, message: str) -> None:
    assert response.status == status
    html = await response.text()
    assert message in html and "Sign in with Google" in html
    assert await signed_in_as(client) is None
    assert await SessionRow.filter(user_id__not_isnull=True).count() == 0


async def test_a_tampered_state_is_refused(client, provider):
    response = await sign_in(client, lambda url: url.update_query(state="forged-" + url.query["state"]))
    await refused(client, response, 401, "did not start here, or was already used")
    assert await User.all().count() == 0


async def test_a_callback_is_used_only_once(client, provider):
    callback = await provider_answer(await to_provider(client))
    assert (await client.get(callback.path_qs, allow_redirects=False)).status == 303
    replay = await client.get(callback.path_qs, allow_redirects=False)
    assert replay.status == 401 and "did not start here, or was already used" in await replay.text()


@pytest.mark.parametrize(
    "claims, reason",
    [
        ({"nonce": "not-the-one-we-sent"}, "nonce"),
        ({"exp": int(time.time()) - 600}, "exp"),
        ({"aud": "someone-elses-client"}, "aud"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "azp"),
    ],
)
async def test_an_id_token_with_a_wrong_claim_is_refused(client, provider, caplog, claims, reason):
    provider.claims = claims
    with caplog.at_level(logging.WARNING, logger="yatri.google"):
        response = await sign_in(client)
    await refused(client, response, 401, "We could not confirm your Google sign-in")
    assert f"Google sign-in refused: {reason}" in caplog.text
    assert await User.all().count() == 0


async def test_an_id_token_with_a_bad_signature_is_refused(client, provider, caplog):
    provider.signing_key = new_key("key-1")  # same key id, another key
    with caplog.at_level(logging.WARNING, logger="yatri.google"):
        response = await sign_in(client)
    await refused(client, response, 401, "We could not confirm your Google sign-in")
    assert "Google sign-in refused: bad_signature" in caplog.text


async def test_an_unverified_google_email_is_refused_with_a_clear_message(client, provider):
    provider.user = {**provider.user, "email_verified": False}
    response = await sign_in(client)
    await refused(client, response, 403, "email address is not verified")
    assert await User.all().count() == 0


async def test_new_provider_keys_are_fetched_when_a_token_names_one(client, provider):
    assert (await sign_in(client)).status == 303  # keys cached
    client.session.cookie_jar.clear()
    provider.key = new_key("key-2")  # the provider rotates its keys
    assert (await sign_in(client)).status == 303


async def test_a_cancelled_sign_in_says_so(client, provider):
    authorize = await to_provider(client)
    callback = URL(authorize.query["redirect_uri"]).with_query(error="access_denied", state=authorize.query["state"])
    response = await client.get(callback.path_qs)
    await refused(client, response, 401, "Google sign-in was cancelled.")


async def test_the_button_shows_only_when_google_is_set_up(client, provider):
    for path in ("/login", "/signup"):
        html = await (await client.get(f"{path}?next=/bookings")).text()
        assert 'href="/auth/google?next=/bookings"' in html and "Sign in with Google" in html


@pytest.mark.parametrize("path", ["/login", "/signup", "/auth/google"])
async def test_without_google_settings_there_is_no_button_and_no_route(aiohttp_client, database_url, tmp_path, path):
    from yatri.app import create_app
    from yatri.keys import DatabaseKey

    app = create_app(Settings(database_url=database_url, var_dir=tmp_path / "var"))
    client = await aiohttp_client(app)
    with app[DatabaseKey]:
        response = await client.get(path, allow_redirects=False)
    if path == "/auth/google":
        assert response.status == 404
    else:
        assert response.status == 200 and "Sign in with Google" not in await response.text()


async def test_the_service_verifies_a_raw_id_token_without_a_request(provider):
    """What the JSON API's Google sign-in reuses: the cached provider and verify_id_token."""
    now = datetime.now(timezone.utc)
    async with httpx2.AsyncClient() as http:
        oidc = OidcProvider(http, provider.metadata_url)
        claims = await oidc.verify(provider.id_token(nonce="n-1"), client_id=CLIENT_ID, nonce="n-1", now=now)
        assert (claims["sub"], claims["email_verified"]) == ("109876543210", True)
        assert (await oidc.verify(provider.id_token(), client_id=CLIENT_ID, now=now))["sub"] == "109876543210"
        with pytest.raises(GoogleSignInFailed) as wrong:
            await oidc.verify(provider.id_token(), client_id="another-client", now=now)
        assert wrong.value.reason == "aud" and wrong.value.status == 401
        with pytest.raises(GoogleSignInFailed) as late:
            await oidc.verify(provider.id_token(), client_id=CLIENT_ID, now=now + timedelta(hours=2))
        assert late.value.reason == "exp"


async def test_an_unreachable_provider_gets_a_clear_503(aiohttp_client, database_url, tmp_path):
    from yatri.app import create_app
    from yatri.keys import DatabaseKey

    settings = Settings(
        database_url=database_url, var_dir=tmp_path / "var", google_client_id=CLIENT_ID,
        oidc_metadata_url=f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration",
    )  # fmt: skip
    app = create_app(settings)
    client = await aiohttp_client(app)
    with app[DatabaseKey]:
        response = await client.get("/auth/google")
    assert response.status == 503 and "cannot be reached right now" in await response.text()
