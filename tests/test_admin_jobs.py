"""/admin/jobs: the operator sees dead and waiting jobs with their errors and retries a
dead one (CSRF, an audit row); the worker then sends it. Linked from the dashboard."""

from tests.helpers import csrf_in, login, make_user
from tests.jobs_helpers import jobs_settled, outbox_files
from yatri.keys import NotifierKey
from yatri.models import AuditLog, Job, JobState, Role
from yatri.services.jobs import utcnow
from yatri.services.notify import Mail

LOST = Mail("ravi@example.com", "Booking confirmed: YT-7K3Q9M", "email/test.txt", {"name": "Ravi", "amount": 100})


async def dead_mail(client) -> Job:
    payload = client.app[NotifierKey].render(LOST)
    return await Job.create(kind="mail", payload=payload, run_at=utcnow(), state=JobState.DEAD, attempts=12,
                            last_error="SMTPConnectError: Error connecting to smtp.example.com on port 587")  # fmt: skip


async def test_the_operator_sees_a_dead_mail_and_retries_it_until_it_is_sent(client, tmp_path):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    job = await dead_mail(client)
    await login(client, admin)
    dashboard = await (await client.get("/admin")).text()
    assert 'id="jobs-dead">1<' in dashboard and 'href="/admin/jobs"' in dashboard
    page = await (await client.get("/admin/jobs")).text()
    assert f'id="job-{job.id}"' in page and "to ravi@example.com: Booking confirmed: YT-7K3Q9M" in page
    assert "Error connecting to smtp.example.com" in page and "12 of 12" in page

    response = await client.post(f"/admin/jobs/{job.id}/retry", data={"csrf_token": csrf_in(page)}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/jobs"
    audit = await AuditLog.get(entity="job", entity_id=str(job.id))
    assert (audit.action, audit.from_state, audit.to_state, audit.actor_id) == ("retried", "dead", "queued", admin.id)
    [path] = await outbox_files(tmp_path / "var", 1)  # the worker sent it
    assert b"Namaste Ravi" in path.read_bytes()
    await jobs_settled()
    assert (await Job.get(id=job.id)).state == JobState.DONE
    after = await (await client.get("/admin/jobs")).text()
    assert "is queued again" in after and f'id="job-{job.id}"' not in after


async def test_retry_needs_the_csrf_token_and_a_done_job_cannot_be_retried(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    job = await dead_mail(client)
    await login(client, admin)
    assert (await client.post(f"/admin/jobs/{job.id}/retry", data={}, allow_redirects=False)).status == 403
    assert (await Job.get(id=job.id)).state == JobState.DEAD and not await AuditLog.exists(entity="job")
    await Job.filter(id=job.id).update(state=JobState.DONE)
    page = await (await client.get("/admin/jobs")).text()
    response = await client.post(f"/admin/jobs/{job.id}/retry", data={"csrf_token": csrf_in(page)})
    assert "cannot be retried" in await response.text()
    missing = await client.post("/admin/jobs/999999/retry", data={"csrf_token": csrf_in(page)}, allow_redirects=False)
    assert missing.status == 404


async def test_a_traveller_cannot_see_or_retry_jobs(client):
    job = await dead_mail(client)
    await login(client, await make_user())
    assert (await client.get("/admin/jobs", allow_redirects=False)).status in (403, 303)
    page = await (await client.get("/account")).text()
    response = await client.post(f"/admin/jobs/{job.id}/retry", data={"csrf_token": csrf_in(page)}, allow_redirects=False)
    assert response.status in (403, 303)
    assert (await Job.get(id=job.id)).state == JobState.DEAD
