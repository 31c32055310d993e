"""Middlewares: request context, security headers and compression, errors."""

from __future__ import annotations

import logging
import re
import time
import uuid
from http import HTTPStatus

import aiohttp_jinja2
from aiohttp import web

from yatri.db import database_context
from yatri.errors import ValidationError, YatriError
from yatri.services.events import publishing
from yatri.keys import DatabaseKey, EventsKey, MetricsKey, RequestIdKey, SettingsKey
from yatri.web.clients import client_address
from yatri.web.render import is_htmx, wants_problem_json

log = logging.getLogger("yatri.web")
access_log = logging.getLogger("yatri.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_COMPRESSIBLE = ("text/", "application/json", "application/problem+json", "image/svg+xml")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "
    "https://res.cloudinary.com; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

FRIENDLY = {
    404: ("Page not found", "We could not find that page. It may have moved, or the link is wrong."),
    405: ("Not available", "That action is not available on this page."),
    413: ("Too large", "What you sent is too large."),
    500: (
        "Something went wrong",
        "Something went wrong on our side and nothing was changed. Please try again in a moment.",
    ),
}


@web.middleware
async def request_context(request: web.Request, handler):
    """Give each request an id (sent back as X-Request-ID) and the app's database context,
    and log one line for it: method, path, status, duration and id."""
    started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    request[RequestIdKey] = request_id
    response: web.StreamResponse | web.HTTPException | None = None
    metrics = request.app[MetricsKey]
    metrics.in_progress.inc()
    try:
        with database_context(request.app[DatabaseKey]), publishing(request.app[EventsKey]):
            response = await handler(request)
    except web.HTTPException as exc:  # redirects and bare HTTP answers pass through here
        response = exc
        raise
    finally:
        metrics.in_progress.dec()
        if response is not None:
            response.headers["X-Request-ID"] = request_id
        status = response.status if response is not None else 499
        _log_access(request, status, started)
        metrics.observe(request, status, time.perf_counter() - started)
    return response


def _log_access(request: web.Request, status: int, started: float) -> None:
    fields = {
        "request_id": request[RequestIdKey],
        "client": client_address(request),
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    access_log.info("%(client)s %(method)s %(path)s %(status)s %(duration_ms)sms id=%(request_id)s", fields, extra=fields)


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc)
        raise
    _secure(request, response)
    content_type = response.headers.get("Content-Type", "")
    if (
        isinstance(response, web.Response)
        and not response.headers.get("Content-Encoding")
        and content_type.startswith(_COMPRESSIBLE)
    ):
        response.enable_compression()
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.app[SettingsKey].production:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if "Vary" not in headers and not wants_problem_json(request):
        headers["Vary"] = "HX-Request"


@web.middleware
async def error_pages(request: web.Request, handler):
    """Turn any error into an HTML page, an HTMX fragment or problem+json."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        title, detail = FRIENDLY.get(exc.status, (exc.reason, exc.reason))
        extra_headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return error_response(request, exc.status, title, detail, headers=extra_headers)
    except YatriError as exc:
        extra = {}
        if isinstance(exc, ValidationError):
            extra["errors"] = (
                [{"field": name, "message": message} for name, message in exc.errors.items()]
                if wants_problem_json(request)
                else exc.errors
            )
        headers = dict(getattr(exc, "headers", {}))
        if hasattr(exc, "retry_after"):
            headers["Retry-After"] = str(exc.retry_after)
        if hasattr(exc, "challenge"):
            headers["WWW-Authenticate"] = exc.challenge
        return error_response(request, exc.status, exc.title, exc.detail, headers=headers, problem=exc.problem, **extra)
    except Exception:
        request_id = request[RequestIdKey]
        log.exception(
            "unhandled error on %s %s id=%s", request.method, request.path, request_id,
            extra={"request_id": request_id},
        )  # fmt: skip
        title, detail = FRIENDLY[500]
        return error_response(request, 500, title, detail)


def error_response(
    request: web.Request, status: int, title: str, detail: str, *, headers=None, problem: str = "", **extra
) -> web.Response:
    """The error as the request wants it. In problem+json, `type` is `/problems/<problem>`
    with `title`, or `about:blank` with the HTTP status phrase as title (RFC 9457)."""
    request_id = request.get(RequestIdKey, "")
    if wants_problem_json(request):
        body = {
            "type": f"/problems/{problem}" if problem else "about:blank",
            "title": title if problem else HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "instance": request.path,
            "request_id": request_id,
            **extra,
        }
        response = web.json_response(body, status=status, content_type="application/problem+json")
    else:
        context = {
            "status": status,
            "status_phrase": HTTPStatus(status).phrase,
            "title": title,
            "detail": detail,
            "request_id": request_id,
        }
        if is_htmx(request):
            context["messages"] = [{"level": "error", "text": detail}]
            response = aiohttp_jinja2.render_template(
                "fragments/flash.html", request, context, status=status
            )
            response.headers["HX-Retarget"] = "#flash"
            response.headers["HX-Reswap"] = "innerHTML"
        else:
            response = aiohttp_jinja2.render_template("pages/error.html", request, context, status=status)
    response.headers.update(headers or {})
    return response
