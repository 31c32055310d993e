"""Holds every /api/ response a test produces to the published OpenAPI document.

`check_responses(app)` adds an outermost middleware that validates each answer's status,
content type, ETag header and JSON body against the document the app serves (the same
`document(ROUTES, ...)` call), and records each mismatch; the `aiohttp_client` fixture fails the
test when there was one. Unmatched paths (404, 405) must still answer a Problem.
"""

from __future__ import annotations

import functools
import json

import jsonschema_rs
from aiohttp import web

from yatri.api.openapi import document
from yatri.api.routes import ROUTES
from yatri.keys import SettingsKey

ContractFailuresKey = web.AppKey("contract_failures", list)
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@functools.cache
def _document(base_url: str) -> dict:
    return document(ROUTES, base_url)


@functools.cache
def _validator(base_url: str, ref: str) -> jsonschema_rs.Draft202012Validator:
    root = {"$ref": ref, "components": _document(base_url)["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def check_responses(app: web.Application) -> None:
    failures: list[str] = []
    app[ContractFailuresKey] = failures
    base_url = app[SettingsKey].base_url

    @web.middleware
    async def contract(request: web.Request, handler) -> web.StreamResponse:
        response = await handler(request)
        if request.path.startswith("/api/") and request.method != "OPTIONS" and request.path != "/api/openapi.json":
            failures.extend(f"{request.method} {request.path} -> {response.status}: {problem}"
                            for problem in _mismatches(base_url, request, response))  # fmt: skip
        return response

    app.middlewares.insert(0, contract)


def _documented(base_url: str, request: web.Request, status: int) -> dict | None:
    route = request.match_info.route
    template = route.resource.canonical if route.resource is not None else ""
    operation = _document(base_url)["paths"].get(template, {}).get(request.method.lower())
    if operation is None:  # no such route: a 404 or 405 problem
        return {"description": "", "content": _PROBLEM} if status >= 400 else None
    return operation["responses"].get(str(status))


def _mismatches(base_url: str, request: web.Request, response: web.StreamResponse) -> list[str]:
    documented = _documented(base_url, request, response.status)
    if documented is None:
        return ["this status is not in the document"]
    if "ETag" in documented.get("headers", {}) and "ETag" not in response.headers:
        return ["the documented ETag header is missing"]
    content = documented.get("content", {})
    body = response.body if isinstance(response, web.Response) else None
    if not content:
        return [] if not body else ["a body where the document has none"]
    media = response.content_type
    if media not in content:
        return [f"{media} where the document says {sorted(content)}"]
    ref = content[media]["schema"]["$ref"]
    try:
        instance = json.loads(body or b"")
    except ValueError:
        return ["the body is not JSON"]
    errors = _validator(base_url, ref).iter_errors(instance)
    return ["/" + "/".join(map(str, error.instance_path)) + f": {error.message}" for error in errors]
