"""Session lifetime on the app's clock: idle timeout, absolute lifetime, periodic clean-up,
and a new session id whenever someone signs in."""

import asyncio
from datetime import timedelta

from yatri.keys import NotifierKey
from yatri.models import Job, JobState, LoginAttempt, RateCounter
from yatri.models import Session as SessionRow
from yatri.services import limits
from yatri.services.jobs import utcnow
from yatri.web.sessions import COOKIE_NAME

from tests.helpers import PASSWORD, app, clock, csrf_from, login, make_user  # noqa: F401 - fixtures
from tests.jobs_helpers import jobs_settled


def session_cookie(client) -> str | None:
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/")).get(COOKIE_NAME)
    return cookie.value if cookie else None


async def signed_in(client) -> bool:
    return (await client.get("/account", allow_redirects=False)).status == 200


async def test_a_session_ends_after_a_week_without_requests(client, clock):
    await login(client, await make_user())
    clock.move(days=6, hours=23)
    assert await signed_in(client)
    clock.move(days=7, seconds=1)
    assert not await signed_in(client)
    assert await SessionRow.all().count() == 0


async def test_requests_keep_a_session_alive_until_its_absolute_lifetime(client, clock):
    await login(client, await make_user())
    for _ in range(4):  # a visit every 6 days: 24 days
        clock.move(days=6)
        assert await signed_in(client)
    clock.move(days=6)  # day 30
    assert not await signed_in(client)


async def test_signing_up_starts_a_new_session(client):
    token = await csrf_from(client, "/signup")
    before = session_cookie(client)
    form = {"name": "Asha", "email": "asha@example.com", "password": PASSWORD, "csrf_token": token}
    assert (await client.post("/signup", data=form, allow_redirects=False)).status == 303
    assert session_cookie(client) not in (None, before)
    assert await SessionRow.filter(user__email="asha@example.com").count() == 1


async def test_the_clean_up_runs_periodically(client, clock):
    user = await make_user()
    await login(client, user)
    await LoginAttempt.create(email=user.email, ip="10.0.0.1", succeeded=False, created_at=clock.now)
    await limits.count_request("api", "10.0.0.1", 10, clock.now)
    clock.move(days=31)

    # The worker ran the periodic clean-up at start (nothing old then) and queued the
    # next run an interval later: the interval has passed.
    await jobs_settled()
    [job] = await Job.filter(periodic="clean_up")
    assert job.state == JobState.QUEUED and job.run_at > utcnow() + timedelta(minutes=14)
    await Job.filter(id=job.id).update(run_at=utcnow())
    client.app[NotifierKey].wakeup.set()
    for _ in range(100):
        if not await SessionRow.exists() and not await LoginAttempt.exists() and not await RateCounter.exists():
            break
        await asyncio.sleep(0.02)
    assert not await SessionRow.exists() and not await LoginAttempt.exists() and not await RateCounter.exists()
    for _ in range(100):  # the run puts the job back for the next interval
        if (job := await Job.get(periodic="clean_up")).state == JobState.QUEUED and job.run_at > utcnow():
            break
        await asyncio.sleep(0.02)
    assert job.state == JobState.QUEUED and job.run_at > utcnow() + timedelta(minutes=14)
