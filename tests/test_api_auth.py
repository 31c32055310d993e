"""JSON API tokens with a controllable clock, problem+json errors, CORS and the OpenAPI document."""

import base64
import json

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from yatri.models import RefreshToken
from yatri.services.tokens import AUDIENCE
from yatri.settings import Settings

from tests.api_helpers import app, bearer, clock, get_tokens  # noqa: F401 - fixtures
from tests.helpers import make_user


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", cors_origins=("https://app.example.com",))


async def test_token_lifecycle(client, clock):
    user = await make_user()
    tokens = await get_tokens(client, " ASHA@example.com ")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900

    me = await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status == 200 and (await me.json())["email"] == user.email

    clock.move(minutes=15, seconds=1)
    expired = await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert expired.status == 401
    assert expired.headers["Content-Type"].startswith("application/problem+json")
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    assert "expired" in (await expired.json())["detail"]

    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 200
    second = await refreshed.json()
    assert second["refresh_token"] != tokens["refresh_token"]
    assert (await client.get("/api/v1/me", headers=bearer(second["access_token"]))).status == 200

    # The first refresh token again: theft. Its whole family is revoked, the new one included.
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status == 401 and "already used" in (await reused.json())["detail"]
    assert await RefreshToken.filter(revoked_at__isnull=True).count() == 0
    after_theft = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after_theft.status == 401


async def test_guessing_refresh_tokens_is_throttled_per_address(client, clock):
    await make_user()
    tokens = await get_tokens(client)
    for n in range(5):
        bad = await client.post("/api/v1/auth/refresh", json={"refresh_token": f"guess-{n}"})
        assert bad.status == 401
    throttled = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in (await throttled.json())["detail"]
    clock.move(minutes=15, seconds=1)
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).status == 200


async def test_logout_revokes_the_refresh_token(client, clock):
    await make_user()
    tokens = await get_tokens(client)
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status == 204
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status == 401


async def test_refresh_tokens_expire_after_thirty_days(client, clock):
    await make_user()
    tokens = await get_tokens(client)
    clock.move(days=30, seconds=1)
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status == 401


async def test_wrong_password_is_401(client, clock):
    await make_user()
    response = await client.post("/api/v1/auth/token", json={"email": "asha@example.com", "password": "nope-nope-nope"})
    assert response.status == 401
    assert "do not match" in (await response.json())["detail"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_forged_tokens_are_refused(client, clock, settings):
    user = await make_user()
    claims = {
        "iss": settings.base_url, "aud": AUDIENCE, "sub": str(user.id), "role": "admin",
        "iat": int(clock.now.timestamp()), "exp": int(clock.now.timestamp()) + 600,
    }  # fmt: skip
    unsigned = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
    other_key = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key("another-secret-key-of-32-bytes!!"))
    real = (await get_tokens(client))["access_token"]
    header, payload, signature = real.split(".")
    wrong_audience = header + "." + _b64({**claims, "aud": "someone-else"}) + "." + signature
    for token in [unsigned, other_key, wrong_audience, "not-a-jwt", real + "x"]:
        response = await client.get("/api/v1/me", headers=bearer(token))
        assert response.status == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert (await client.get("/api/v1/me")).status == 401


async def test_cors_only_for_configured_origins(client):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = await client.options("/api/v1/auth/token", headers={"Origin": "https://app.example.com", **preflight})
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    other = await client.options("/api/v1/auth/token", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers
    patch = {"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization, content-type, if-match"}
    profile = await client.options("/api/v1/me", headers={"Origin": "https://app.example.com", **patch})
    assert profile.status == 200 and "IF-MATCH" in profile.headers["Access-Control-Allow-Headers"].upper()
    booking = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"}
    assert (await client.options("/api/v1/bookings", headers={"Origin": "https://app.example.com", **booking})).status == 200


async def test_openapi_describes_every_api_route_and_nothing_else(client, app):
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    registered = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.method not in ("OPTIONS", "HEAD")
    }
    assert documented == registered
