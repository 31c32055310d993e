"""Login throttling: 5 failures in 15 minutes per account or per client address, counted
in the database (so every server process sees the same count)."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from yatri.errors import TooManyRequests, ValidationError
from yatri.keys import ClockKey
from yatri.models import LoginAttempt
from yatri.services import accounts

from tests.helpers import PASSWORD, Clock, csrf_from, make_user
from tests.jobs_helpers import periodic_ran

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def app(app, clock):
    app[ClockKey] = clock

    async def throttled(request):
        raise TooManyRequests("Slow down.", retry_after=42)

    app.router.add_get("/api/v1/test/throttled", throttled)
    app.router.add_get("/test/throttled", throttled)
    return app


async def post_login(client, email: str, password: str):
    token = await csrf_from(client, "/login")
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, allow_redirects=False
    )


async def test_five_failures_lock_the_account_for_fifteen_minutes(client, clock):
    user = await make_user()
    for _ in range(5):
        assert (await post_login(client, user.email, "wrong-password-1")).status == 422
        clock.move(minutes=1)
    response = await post_login(client, "ASHA@example.com", PASSWORD)  # even the right password
    assert response.status == 429
    assert response.headers["Retry-After"] == str(10 * 60)  # the first failure leaves the window in 10 minutes
    html = await response.text()
    assert "Too many failed sign-ins. Try again in 10 minutes." in html and 'value="ASHA@example.com"' in html
    assert await LoginAttempt.filter(succeeded=False).count() == 5  # a refused attempt is not counted

    clock.move(minutes=10)
    response = await post_login(client, user.email, PASSWORD)
    assert response.status == 303


async def test_failures_from_one_address_lock_it_for_every_email(client):
    for n in range(5):
        assert (await post_login(client, f"guess{n}@example.com", "wrong-password-1")).status == 422
    user = await make_user("ravi@example.com")
    response = await post_login(client, user.email, PASSWORD)
    assert response.status == 429 and int(response.headers["Retry-After"]) == 15 * 60


# The rule itself, as the JSON API uses it (the `client` fixture opens the database).


async def fail(email: str, ip: str, now: datetime = NOW) -> None:
    with pytest.raises(ValidationError):
        await accounts.attempt_login(email, "nope-nope-nope", ip=ip, now=now)


async def test_an_account_is_locked_from_any_address(client):
    await make_user()
    for n in range(5):
        await fail("asha@example.com", f"10.0.0.{n}")
    with pytest.raises(TooManyRequests) as refused:
        await accounts.attempt_login(" Asha@Example.com", PASSWORD, ip="10.9.9.9", now=NOW + timedelta(minutes=3))
    assert refused.value.retry_after == 12 * 60
    await accounts.attempt_login("asha@example.com", PASSWORD, ip="10.9.9.9", now=NOW + timedelta(minutes=15))


async def test_a_success_clears_the_accounts_count(client):
    await make_user()
    for n in range(4):
        await fail("asha@example.com", f"10.0.0.{n}")
    await accounts.attempt_login("asha@example.com", PASSWORD, ip="10.0.1.1", now=NOW + timedelta(seconds=1))
    for n in range(4):
        await fail("asha@example.com", f"10.0.2.{n}", NOW + timedelta(seconds=2))
    await accounts.attempt_login("asha@example.com", PASSWORD, ip="10.0.3.3", now=NOW + timedelta(seconds=3))


async def test_the_address_count_is_not_cleared_by_a_success(client):
    await make_user()
    for n in range(3):
        await fail(f"x{n}@example.com", "10.0.0.1")
    await accounts.attempt_login("asha@example.com", PASSWORD, ip="10.0.0.1", now=NOW)
    await fail("y@example.com", "10.0.0.1")
    await fail("z@example.com", "10.0.0.1")
    with pytest.raises(TooManyRequests):
        await accounts.attempt_login("asha@example.com", PASSWORD, ip="10.0.0.1", now=NOW)


async def test_attempts_at_the_same_moment_are_checked_at_most_five_times(client):
    """Forty guesses at once: the check and the record are one step, so five are checked
    and thirty-five refused, whatever their timing (before, all forty were checked)."""
    await make_user()

    async def guess(n: int) -> str:
        try:
            await accounts.attempt_login("asha@example.com", f"guess-number-{n}", ip=f"10.1.0.{n}", now=NOW)
        except (ValidationError, TooManyRequests) as exc:
            return type(exc).__name__
        return "signed in"

    verdicts = await asyncio.gather(*(guess(n) for n in range(40)))
    assert verdicts.count("ValidationError") == 5 and verdicts.count("TooManyRequests") == 35
    assert await LoginAttempt.filter(succeeded=False).count() == 5
    assert not await LoginAttempt.filter(succeeded=None).exists()  # every checked attempt is marked


async def test_an_attempt_is_counted_while_it_is_being_checked(client):
    await make_user()
    for n in range(4):
        await fail("asha@example.com", f"10.0.0.{n}")
    async with accounts.sign_in_attempt("asha@example.com", "10.0.9.9", NOW):
        with pytest.raises(TooManyRequests):  # the fifth is still being checked, and it counts
            await accounts.attempt_login("asha@example.com", PASSWORD, ip="10.0.8.8", now=NOW)
    assert await LoginAttempt.filter(succeeded=True).count() == 1


async def test_old_attempts_are_deleted_by_the_clean_up(client):
    await periodic_ran("clean_up")  # the worker's own run at start is over
    await fail("a@example.com", "10.0.0.1", NOW - timedelta(minutes=16))
    await fail("a@example.com", "10.0.0.1", NOW - timedelta(minutes=1))
    assert await accounts.delete_old_login_attempts(NOW) == 1
    assert await LoginAttempt.all().count() == 1


async def test_too_many_requests_carries_retry_after_in_html_and_problem_json(client):
    page = await client.get("/test/throttled")
    assert page.status == 429 and page.headers["Retry-After"] == "42"
    assert "Slow down." in await page.text()
    problem = await client.get("/api/v1/test/throttled")
    assert problem.status == 429 and problem.headers["Retry-After"] == "42"
    assert problem.content_type == "application/problem+json"
    assert (await problem.json())["status"] == 429
