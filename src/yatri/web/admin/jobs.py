"""/admin/jobs: dead jobs (a mail that could not be sent after every try), waiting and
running ones, with their last error; Retry queues a dead or waiting job at once with
fresh tries (audited). The page works as plain forms; the worker picks a retried job up
within a second."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from yatri.errors import Conflict, NotFound
from yatri.parsing import FieldError, whole_number
from yatri.services import jobs
from yatri.web.admin.common import admin as current_admin
from yatri.web.auth import flash
from yatri.web.render import render


async def job_list(request: web.Request) -> web.Response:
    backlog = await jobs.backlog()
    return render(request, "admin/jobs.html", {"jobs": await jobs.listing(), "backlog": backlog})


async def retry_job(request: web.Request) -> web.Response:
    try:
        job_id = whole_number(request.match_info["id"], 1)
    except FieldError:
        raise NotFound("No such job.") from None
    try:
        job = await jobs.retry(job_id, current_admin(request))
    except Conflict as exc:
        await flash(request, exc.detail, "error")
    else:
        await flash(request, f"Job {job.id} ({job.kind}) is queued again and runs in a moment.")
    raise web.HTTPSeeOther("/admin/jobs")


def routes() -> list[tuple[str, str, Any, str]]:
    return [
        ("GET", "/admin/jobs", job_list, "admin_jobs"),
        ("POST", "/admin/jobs/{id:[0-9]+}/retry", retry_job, "admin_job_retry"),
    ]
