"""Helpers for tests that need users, a signed-in client, CSRF tokens and a clock.

A test module that wants the clock imports the fixtures: `from tests.helpers import app, clock`
(and may define its own `clock` to start elsewhere).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from yatri.keys import ClockKey
from yatri.models import Role, User
from yatri.services.accounts import hash_password

PASSWORD = "correct-horse-battery-9"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


async def make_user(
    email: str = "asha@example.com",
    *,
    name: str = "Asha Rao",
    role: Role = Role.TRAVELLER,
    password: str = PASSWORD,
    verified: bool = True,
) -> User:
    return await User.create(
        email=email, name=name, role=role, password_hash=hash_password(password), email_verified=verified
    )


def csrf_in(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def csrf_from(client, path: str = "/login") -> str:
    response = await client.get(path)
    return csrf_in(await response.text())


async def login(client, user: User, password: str = PASSWORD) -> str:
    """Log the client in through the real form; returns the new session's CSRF token."""
    token = await csrf_from(client, "/login")
    response = await client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    return await csrf_from(client, "/")


class Clock:
    """A clock for `app[ClockKey]` that the test moves."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(app, clock):
    """The app on the test's clock."""
    app[ClockKey] = clock
    return app
