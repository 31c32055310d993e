"""Rendering helpers shared by the HTML handlers."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web


def is_htmx(request: web.Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment(request: web.Request) -> bool:
    """An htmx swap; htmx restores history (back button) by asking for the whole page."""
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def wants_problem_json(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def render(
    request: web.Request,
    page: str,
    context: dict,
    *,
    fragment: str | None = None,
    status: int = 200,
) -> web.Response:
    """Render the full page, or only `fragment` (a file under fragments/) for HTMX requests.

    The page template includes the same fragment, so both paths give the same markup.
    """
    template = fragment if fragment and wants_fragment(request) else page
    return aiohttp_jinja2.render_template(template, request, context, status=status)
