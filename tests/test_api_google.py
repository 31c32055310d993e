"""POST /api/v1/auth/google: an ID token from a local OpenID provider (standing in for
Google, signing real RS256 tokens) traded for API tokens, verified as the web sign-in is."""

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
    assert (await User.get(email="meera.nair@gmail.com")).google_sub == "109876543210"


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
