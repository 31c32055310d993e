"""The operator's pages under /admin.

Every route is added through `add_admin_routes`, which wraps each handler in
`require_admin`: a handler here never checks the role itself, and a test walks the router
to prove that every /admin route refuses visitors and travellers. Pages extend
templates/admin/layout.html; a page sets `admin_section` to mark its nav link.
"""

from __future__ import annotations

from aiohttp import web

from yatri.web.admin import audit, bookings, catalogue, dashboard, departures, jobs, payments, users
from yatri.web.auth import require_admin


def add_admin_routes(app: web.Application) -> None:
    routes = [
        ("GET", "/admin", dashboard.dashboard, "admin"),
        *catalogue.routes(),
        *departures.routes(),
        *bookings.routes(),
        *users.routes(),
        *audit.routes(),
        *payments.routes(),
        *jobs.routes(),
    ]
    for method, path, handler, name in routes:
        app.router.add_route(method, path, require_admin(handler), name=name)
