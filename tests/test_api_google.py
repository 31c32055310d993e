"""POST /api/v1/auth/google: an ID token from a local OpenID provider (standing in for
Google, signing real RS256 tokens) traded for API tokens, verified as the web sign-in is."""

import logging

import pytest

from yatri.models import User
from yatri.settings import Settings

from tests.api_helpers import bearer, is_problem
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, new_key


@pytest.fixture
def settings(request, database_url, tmp_path) -> Settings:
    if "unconfigured" in request.node.name:
        return Settings(database_url=database_url, var_dir=tmp_path / "var")
    provider = request.getfixturevalue("provider")
    return Settings(
        database_url=database_url, var_dir=tmp_path / "var", google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET, oidc_metadata_url=provider.metadata_url,
    )  # fmt: skip


async def test_a_google_id_token_gets_api_tokens(client, provider):
    response = await client.post("/api/v1/auth/google", json={"id_token": provider.id_token()})
    assert response.status == 200, await response.text()
    tokens = await response.json()
    assert response.headers["Cache-Control"] == "no-store"
    me = await (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).json()
    assert me["email"] == "meera.nair@gmail.com" and me["email_verified"] is True
    user = await User.get(email="meera.nair@gmail.com")
    assert (user.oidc_issuer, user.google_sub) == (provider.url, "109876543210")


@pytest.mark.parametrize("left_out", [("email", "email_verified"), ("email_verified",)], ids=["both", "email_verified"])
async def test_an_id_token_without_the_email_claims_is_a_clear_422(client, provider, caplog, left_out):
    """No access token comes with it, so there is no userinfo to read them from (OIDC Core §5.3.1)."""
    provider.user = {k: v for k, v in provider.user.items() if k not in left_out}
    with caplog.at_level(logging.WARNING, logger="yatri.google"):
        response = await client.post("/api/v1/auth/google", json={"id_token": provider.id_token()})
    assert is_problem(response, 422)
    [error] = (await response.json())["errors"]
    assert error["field"] == "id_token" and f"no {' or '.join(left_out)} claim" in error["message"]
    assert f"the ID token has no {' or '.join(left_out)} claim" in caplog.text
    assert await User.all().count() == 0 and provider.userinfo_requests == 0


async def test_forged_or_foreign_id_tokens_are_401(client, provider):
    foreign = provider.id_token(aud="someone-elses-app")
    provider.signing_key = new_key("key-1")  # same key id, another key: the signature fails
    forged = provider.id_token()
    for token in (foreign, forged, "not-a-token"):
        response = await client.post("/api/v1/auth/google", json={"id_token": token})
        assert is_problem(response, 401), token
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert await User.all().count() == 0


async def test_an_unverified_google_email_is_403(client, provider):
    response = await client.post("/api/v1/auth/google", json={"id_token": provider.id_token(email_verified=False)})
    assert is_problem(response, 403)
    assert "not verified" in (await response.json())["detail"]


async def test_unconfigured_google_sign_in_is_404(client):
    response = await client.post("/api/v1/auth/google", json={"id_token": "x"})
    assert is_problem(response, 404)
