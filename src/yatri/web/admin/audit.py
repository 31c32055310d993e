"""/admin/audit: the audit log, filterable by entity, record, action, actor and date."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from yatri.models import AuditLog
from yatri.services import admin_audit
from yatri.web.admin import forms
from yatri.web.admin.common import zone
from yatri.web.render import render

# The admin page of a record, by entity; an entity missing here has none.
RECORD_PAGES = {
    "trip": "/admin/trips/{id}",
    "destination": "/admin/destinations/{id}",
    "departure": "/admin/departures/{id}",
    "booking": "/admin/bookings/{id}",
    "job": "/admin/jobs#job-{id}",
}


def record_url(log: AuditLog) -> str | None:
    """Where the changed record can be seen (a refund's or payment's booking)."""
    pattern = RECORD_PAGES.get(log.entity)
    if pattern:
        return pattern.format(id=log.entity_id)
    booking = log.data.get("booking") if isinstance(log.data, dict) else None
    return f"/admin/bookings/{booking}" if isinstance(booking, str) and booking else None


async def audit_log(request: web.Request) -> web.Response:
    filters, errors = forms.audit_filters(request.query)
    page = await admin_audit.search(filters, zone(request), forms.page_number(request.query.get("page")))
    context = {
        "page": page, "filters": filters, "errors": errors, "choices": await admin_audit.choices(filters.entity),
        "record_url": record_url, "pager_params": filters.query_params(),
        "typed": {key: request.query.get(key, "") for key in ("from", "to")},
    }  # fmt: skip
    return render(request, "admin/audit.html", context)


def routes() -> list[tuple[str, str, Any, str]]:
    return [("GET", "/admin/audit", audit_log, "admin_audit")]
