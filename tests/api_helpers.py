"""What the JSON API tests share: a clock the test moves, tokens, the bearer header.

A test module that wants the clock imports the fixtures: `from tests.api_helpers import app, clock`
(the app fixture of tests.helpers, on a clock that starts at START).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.helpers import PASSWORD, Clock, app  # noqa: F401 - app is re-exported as a fixture

START = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


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
