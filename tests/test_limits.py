"""The per-client rate limit, the client address behind trusted proxies, and mail limits
that hold when requests arrive at the same moment (in one process; tests/test_limits_live.py
sends the bursts to two server processes)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timezone

import pytest
from aiohttp import web

from yatri.keys import ClockKey
from yatri.models import AccountToken, LoginAttempt, RateCounter
from yatri.services import accounts, limits
from yatri.settings import Settings, SettingsError
from yatri.web.clients import client_address

from tests.helpers import Clock, csrf_from, make_user

NOW = datetime(2026, 12, 1, 12, 0, 10, tzinfo=timezone.utc)


@pytest.fixture
def trusted() -> tuple[str, ...]:
    """TRUSTED_PROXIES; a test names others with @pytest.mark.parametrize("trusted", ...)."""
    return ()


@pytest.fixture
def api_limit() -> int:
    return 5


@pytest.fixture
def settings(settings, trusted, api_limit):
    return dataclasses.replace(
        settings, rate_limit_api_per_minute=api_limit, rate_limit_forms_per_minute=2, trusted_proxies=trusted
    )


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def app(app, clock):
    app[ClockKey] = clock

    async def whoami(request):
        return web.Response(text=client_address(request))

    app.router.add_get("/test/client", whoami)
    return app


# The rate limit


async def test_the_api_answers_429_with_retry_after_past_the_limit_per_minute(client, clock):
    for _ in range(5):
        assert (await client.get("/api/v1/trips")).status == 200
    refused = await client.get("/api/v1/destinations")  # every API route shares the bucket
    assert refused.status == 429 and refused.headers["Retry-After"] == "50"  # the minute ends at 12:01:00
    assert refused.content_type == "application/problem+json"
    assert "Too many requests from your address. Try again in 50 seconds." == (await refused.json())["detail"]
    assert (await client.get("/trips")).status == 200  # pages are not limited
    clock.move(seconds=50)
    assert (await client.get("/api/v1/trips")).status == 200


async def test_requests_at_the_same_moment_pass_at_most_the_limit(client):
    responses = await asyncio.gather(*(client.get("/api/v1/destinations") for _ in range(30)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 5 + [429] * 25
    assert await RateCounter.get(bucket="api").values_list("hits", flat=True) == 30


@pytest.mark.parametrize("path", ["/signup", "/departures/1/book", "/bookings/YT-7K3Q9M/pay"])
async def test_costly_form_posts_are_limited_per_client(client, path):
    token = await csrf_from(client, "/login")
    for _ in range(2):  # counted before anything else: the sign-in redirect, the missing booking
        assert (await client.post(path, data={"csrf_token": token}, allow_redirects=False)).status != 429
    refused = await client.post(path, data={"csrf_token": token}, allow_redirects=False)
    assert refused.status == 429 and refused.headers["Retry-After"] == "50"
    assert "Too many requests from your address" in await refused.text()
    login = await client.post("/login", data={"csrf_token": token, "email": "a@example.com", "password": "x" * 12})
    assert login.status == 422  # other posts are not in the forms bucket


async def test_old_counters_are_deleted_by_the_clean_up(client):
    await limits.count_request("api", "10.0.0.1", 5, NOW.replace(minute=0))
    await limits.count_request("api", "10.0.0.1", 5, NOW.replace(minute=1))
    assert await limits.delete_old_counters(NOW.replace(minute=1)) == 1
    assert await RateCounter.all().values_list("minute", flat=True) == [int(NOW.timestamp() // 60) + 1]


# The client address


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(client, caplog):
    response = await client.get("/test/client", headers={"X-Forwarded-For": "203.0.113.7"})
    assert await response.text() == "127.0.0.1"
    token = await csrf_from(client, "/login")
    with caplog.at_level(logging.INFO, logger="yatri.access"):
        await client.post("/login", data={"csrf_token": token, "email": "a@example.com", "password": "x" * 12},
                          headers={"X-Forwarded-For": "203.0.113.7"})  # fmt: skip
    assert await LoginAttempt.get().values_list("ip", flat=True) == "127.0.0.1"
    assert any(r.getMessage().startswith("127.0.0.1 POST /login 422") for r in caplog.records)


@pytest.mark.parametrize("trusted", [("127.0.0.1", "10.0.0.0/8")])
async def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(client, caplog):
    async def seen(forwarded: str | list[str]) -> str:
        headers = [("X-Forwarded-For", value) for value in ([forwarded] if isinstance(forwarded, str) else forwarded)]
        return await (await client.get("/test/client", headers=headers)).text()

    assert await seen("203.0.113.7") == "203.0.113.7"
    # The right-most address that is not a trusted proxy: what the client wrote itself is left of it.
    assert await seen("6.6.6.6, 203.0.113.7, 10.1.2.3") == "203.0.113.7"
    assert await seen(["6.6.6.6", "203.0.113.7, 10.1.2.3"]) == "203.0.113.7"
    assert await seen("2001:db8::1") == "2001:db8::1"
    assert await seen("not-an-address, 10.1.2.3") == "10.1.2.3"  # a forged entry stops the walk
    assert await seen("10.1.2.3") == "10.1.2.3"  # only proxies: the farthest one

    token = await csrf_from(client, "/login")
    with caplog.at_level(logging.INFO, logger="yatri.access"):
        await client.post("/login", data={"csrf_token": token, "email": "a@example.com", "password": "x" * 12},
                          headers={"X-Forwarded-For": "198.51.100.4"})  # fmt: skip
    assert await LoginAttempt.get().values_list("ip", flat=True) == "198.51.100.4"  # the throttle's address
    assert any(r.getMessage().startswith("198.51.100.4 POST /login 422") for r in caplog.records)


@pytest.mark.parametrize("trusted", [("127.0.0.1",)])
async def test_the_rate_limit_counts_the_forwarded_client(client):
    for _ in range(5):
        assert (await client.get("/api/v1/trips", headers={"X-Forwarded-For": "198.51.100.4"})).status == 200
    assert (await client.get("/api/v1/trips", headers={"X-Forwarded-For": "198.51.100.4"})).status == 429
    assert (await client.get("/api/v1/trips", headers={"X-Forwarded-For": "198.51.100.5"})).status == 200


def test_trusted_proxies_and_limits_come_from_the_environment():
    settings = Settings.from_env(
        {"TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1,::1", "RATE_LIMIT_API_PER_MINUTE": "7", "RATE_LIMIT_FORMS_PER_MINUTE": "3"}
    )
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "192.168.1.1/32", "::1/128"]
    assert (settings.rate_limit_api_per_minute, settings.rate_limit_forms_per_minute) == (7, 3)
    assert Settings.from_env({}).trusted_proxies == ()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}, "TRUSTED_PROXIES takes IP addresses or networks"),
        ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "not '10.0.0.0/33'"),
        ({"RATE_LIMIT_API_PER_MINUTE": "lots"}, "RATE_LIMIT_API_PER_MINUTE must be a whole number"),
        ({"RATE_LIMIT_FORMS_PER_MINUTE": "0"}, "RATE_LIMIT_FORMS_PER_MINUTE must be a whole number"),
    ],
)
def test_bad_limits_and_proxies_stop_the_start_with_a_clear_message(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


# Mail limits at the same moment


async def test_reset_mails_requested_at_the_same_moment_are_at_most_three(client):
    user = await make_user()
    found = await asyncio.gather(*(accounts.request_password_reset(user.email, NOW) for _ in range(20)))
    assert sum(1 for f in found if f is not None) == 3
    assert await AccountToken.filter(user_id=user.id).count() == 3


async def test_verification_mails_at_the_same_moment_are_at_most_three(client):
    user = await make_user(verified=False)
    tokens = await asyncio.gather(*(accounts.issue_verification(user, NOW) for _ in range(20)))
    assert sum(1 for t in tokens if t is not None) == 3


@pytest.mark.parametrize("api_limit", [100])
async def test_bad_refresh_tokens_at_the_same_moment_get_at_most_five_verdicts(client):
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/refresh", json={"refresh_token": f"stolen-{n}"}) for n in range(40))
    )
    assert sorted(r.status for r in responses) == [401] * 5 + [429] * 35
    refused = [r for r in responses if r.status == 429][0]
    assert "Too many failed sign-ins" in (await refused.json())["detail"] and int(refused.headers["Retry-After"]) > 60
