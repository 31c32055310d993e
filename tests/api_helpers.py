"""What the JSON API tests share: a clock the test moves, tokens, the bearer header.

A test module that wants the clock imports the fixtures: `from tests.api_helpers import app, clock`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from yatri.keys import ClockKey

from tests.helpers import PASSWORD

START = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

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


async def get_tokens(client, email="asha@example.com", password=PASSWORD) -> dict:
    response = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json()


async def bearer_for(client, email="asha@example.com", password=PASSWORD) -> dict:
    """The Authorization header of a fresh access token for this account."""
    return bearer((await get_tokens(client, email, password))["access_token"])


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def is_problem(response, status: int) -> bool:
    return response.status == status and response.headers["Content-Type"].startswith("application/problem+json")
