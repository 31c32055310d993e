"""JSON API tokens with a controllable clock, problem+json errors, CORS and the OpenAPI document."""

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from yatri.keys import ClockKey
from yatri.models import RefreshToken
from yatri.services.tokens import AUDIENCE
from yatri.settings import Settings

from tests.helpers import PASSWORD, make_user


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(app, clock):
    app[ClockKey] = clock
    return app


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, var_dir=tmp_path / "var", cors_origins=("https://app.example.com",))


async def get_tokens(client, email="asha@example.com", password=PASSWORD) -> dict:
    response = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_token_lifecycle(client, clock):
    user = await make_user()
    tokens = await get_tokens(client, " ASHA@example.com ")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900

    me = await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status == 200 and (await me.json())["email"] == user.email

    clock.advance(minutes=15, seconds=1)
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
    clock.advance(days=30, seconds=1)
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


async def test_errors_are_problem_json(client):
    not_json = await client.post("/api/v1/auth/token", data="email=x", headers={"Content-Type": "text/plain"})
    assert not_json.status == 415
    missing = await client.post("/api/v1/auth/token", json={"email": 5})
    assert missing.status == 422
    body = await missing.json()
    assert body["errors"] == [
        {"field": "email", "message": "This field must be a string."},
        {"field": "password", "message": "This field is required."},
    ]
    unknown = await client.get("/api/v1/nothing-here")
    assert unknown.status == 404 and unknown.headers["Content-Type"].startswith("application/problem+json")
    wrong_method = await client.delete("/api/v1/auth/token")
    assert wrong_method.status == 405 and (await wrong_method.json())["status"] == 405


async def test_cors_only_for_configured_origins(client):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = await client.options("/api/v1/auth/token", headers={"Origin": "https://app.example.com", **preflight})
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    other = await client.options("/api/v1/auth/token", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers


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
