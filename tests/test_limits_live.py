"""Limits hold for bursts sent at the same moment over HTTP to two `yatri serve` processes
on one PostgreSQL database: at most the allowed number of attempts get a verdict, the
rest 429 with Retry-After. (SQLite supports one process: tests/test_limits.py and
tests/test_login_throttle.py send the same bursts in one process.)"""

from __future__ import annotations

import asyncio
import re
import time
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import pytest

from yatri.db import open_database
from yatri.models import User
from yatri.services.accounts import hash_password
from yatri.settings import Settings

from tests.helpers import PASSWORD
from tests.live import LiveServer
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET
from tests.smtp import SmtpServer

BURST = 40
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def start_servers(shared_database_url, tmp_path):
    """`async with start_servers(**env) as urls`: two server processes on the database."""

    @asynccontextmanager
    async def start(**env: str):
        with LiveServer(shared_database_url, tmp_path / "var0", **env) as one, LiveServer(shared_database_url, tmp_path / "var1", **env) as two:
            yield [one.url, two.url]

    return start


async def make_user(database_url: str, email: str = "asha@example.com") -> None:
    ctx = await open_database(Settings(database_url=database_url))
    with ctx:
        await User.create(email=email, name="Asha Rao", password_hash=hash_password(PASSWORD), email_verified=True)
    await ctx.close_connections()


@asynccontextmanager
async def form_sessions(urls: list[str], path: str):
    """BURST browser-like sessions, each with its CSRF token from `path`, spread over the servers."""
    async with AsyncExitStack() as stack:
        sessions = []
        for n in range(BURST):
            session = await stack.enter_async_context(aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)))
            base = urls[n % len(urls)]
            async with session.get(base + path) as response:
                sessions.append((session, base, _CSRF.search(await response.text()).group(1)))
        yield sessions


def verdicts(results: list[tuple[int, str | None]], allowed: int, verdict: int) -> list[int]:
    """Check the burst's answers: at most `allowed` verdicts, the rest 429 with Retry-After."""
    statuses = [status for status, _ in results]
    assert set(statuses) <= {verdict, 429}, statuses
    assert statuses.count(verdict) <= allowed, statuses
    assert all(retry_after and int(retry_after) > 0 for status, retry_after in results if status == 429)
    return statuses


async def test_forty_wrong_passwords_at_once_get_at_most_five_verdicts(shared_database_url, start_servers):
    await make_user(shared_database_url)
    async with start_servers() as urls, form_sessions(urls, "/login") as sessions:

        async def guess(n: int) -> tuple[int, str | None]:
            session, base, token = sessions[n]
            data = {"email": "asha@example.com", "password": f"guess-number-{n}", "csrf_token": token}
            async with session.post(base + "/login", data=data, allow_redirects=False) as response:
                return response.status, response.headers.get("Retry-After")

        statuses = verdicts(await asyncio.gather(*(guess(n) for n in range(BURST))), allowed=5, verdict=422)
        assert statuses.count(422) == 5
        # The API's token route shares the budget: the account is locked there too.
        async with aiohttp.ClientSession() as api:
            body = {"email": "asha@example.com", "password": PASSWORD}
            async with api.post(urls[1] + "/api/v1/auth/token", json=body) as response:
                assert response.status == 429


async def test_forty_api_logins_at_once_get_at_most_five_verdicts(shared_database_url, start_servers):
    await make_user(shared_database_url)
    async with start_servers() as urls, aiohttp.ClientSession() as api:

        async def guess(n: int) -> tuple[int, str | None]:
            body = {"email": "asha@example.com", "password": f"guess-number-{n}"}
            async with api.post(urls[n % 2] + "/api/v1/auth/token", json=body) as response:
                return response.status, response.headers.get("Retry-After")

        statuses = verdicts(await asyncio.gather(*(guess(n) for n in range(BURST))), allowed=5, verdict=401)
        assert statuses.count(401) == 5


async def test_forty_reset_requests_at_once_send_at_most_three_mails(shared_database_url, start_servers):
    await make_user(shared_database_url)
    with SmtpServer() as smtp:
        async with start_servers(SMTP_URL=smtp.url) as urls, form_sessions(urls, "/password-reset") as sessions:

            async def ask(n: int) -> int:
                session, base, token = sessions[n]
                data = {"email": "asha@example.com", "csrf_token": token}
                async with session.post(base + "/password-reset", data=data) as response:
                    return response.status

            statuses = await asyncio.gather(*(ask(n) for n in range(BURST)))
        assert statuses == [200] * BURST  # the same answer either way
        # Each request mails before it answers, so every mail there is has arrived.
        assert len(smtp.outbox.to("asha@example.com")) == 3


async def test_forty_bad_refresh_tokens_at_once_get_at_most_five_verdicts(start_servers):
    async with start_servers() as urls, aiohttp.ClientSession() as api:

        async def refresh(n: int) -> tuple[int, str | None]:
            async with api.post(urls[n % 2] + "/api/v1/auth/refresh", json={"refresh_token": f"stolen-{n}"}) as response:
                return response.status, response.headers.get("Retry-After")

        statuses = verdicts(await asyncio.gather(*(refresh(n) for n in range(BURST))), allowed=5, verdict=401)
        assert statuses.count(401) == 5


async def test_forty_foreign_google_id_tokens_at_once_get_at_most_five_verdicts(start_servers, provider):
    env = {"GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_CLIENT_SECRET": CLIENT_SECRET, "OIDC_METADATA_URL": provider.metadata_url}
    async with start_servers(**env) as urls, aiohttp.ClientSession() as api:

        async def exchange(n: int) -> tuple[int, str | None]:
            body = {"id_token": provider.id_token(aud="someone-elses-app")}
            async with api.post(urls[n % 2] + "/api/v1/auth/google", json=body) as response:
                return response.status, response.headers.get("Retry-After")

        statuses = verdicts(await asyncio.gather(*(exchange(n) for n in range(BURST))), allowed=5, verdict=401)
        assert statuses.count(401) == 5


async def test_the_api_rate_limit_holds_across_processes(start_servers):
    async with start_servers(RATE_LIMIT_API_PER_MINUTE="10") as urls, aiohttp.ClientSession() as api:
        if time.time() % 60 > 50:  # one burst, one minute: do not straddle two windows
            await asyncio.sleep(61 - time.time() % 60)

        async def get(n: int) -> tuple[int, str | None]:
            async with api.get(urls[n % 2] + "/api/v1/destinations") as response:
                return response.status, response.headers.get("Retry-After")

        statuses = verdicts(await asyncio.gather(*(get(n) for n in range(BURST))), allowed=10, verdict=200)
        assert statuses.count(200) == 10
