"""The OpenAPI 3.1 document, generated from the route table and its pydantic models.

Request bodies are described as they are validated, responses as they are serialised;
every schema is a whole component (a `$ref` never points inside another schema).
"""

from __future__ import annotations

import functools

from aiohttp import web
from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from yatri.api.contract import Param, Route
from yatri.api.models import Problem

REF = "#/components/schemas/{model}"

_ERROR_TEXT = {
    401: "Missing, expired or invalid token",
    403: "Not allowed for this token",
    404: "Not found",
    409: "Conflict with the current state",
    412: "The resource changed since it was read",
    415: "The body is not application/json",
    422: "Invalid fields",
    428: "If-Match is required",
    429: "Too many attempts or requests: wait the seconds in Retry-After",
    503: "A service we depend on cannot be reached",
}


@functools.cache
def schemas(routes: tuple[Route, ...]) -> dict:
    """Every request model as validated and every response model as serialised."""
    models = {(Problem, "serialization")}
    models |= {(route.body, "validation") for route in routes if route.body}
    models |= {(route.response, "serialization") for route in routes if route.response}
    _, found = models_json_schema(sorted(models, key=lambda pair: pair[0].__name__), ref_template=REF)
    return found["$defs"]


def _ref(model: type) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _parameter(param: Param) -> dict:
    return {
        "name": param.name, "in": param.where, "required": param.required, "description": param.description,
        "schema": TypeAdapter(param.kind).json_schema(),
    }  # fmt: skip


def _query_parameters(route: Route) -> list[dict]:
    properties = route.query.model_json_schema()["properties"]
    return [
        {"name": name, "in": "query", "required": False, "description": schema.pop("description", ""),
         "schema": {key: value for key, value in schema.items() if key != "title"}}
        for name, schema in properties.items()
    ]  # fmt: skip


def _responses(route: Route) -> dict:
    success: dict = {"description": route.summary}
    if route.response:
        success["content"] = {"application/json": {"schema": _ref(route.response)}}
    if route.etag:
        success["headers"] = {"ETag": {"description": "The version, for If-Match", "schema": TypeAdapter(str).json_schema()}}
    errors = set(route.errors) | {429}  # the per-client rate limit applies to every operation
    if route.body:
        errors |= {415, 422}
    if route.query:
        errors |= {422}
    if route.auth:
        errors |= {401}
    if route.auth == "admin":
        errors |= {403}
    problem = {"application/problem+json": {"schema": _ref(Problem)}}
    return {str(route.status): success} | {
        str(status): {"description": _ERROR_TEXT[status], "content": problem} for status in sorted(errors)
    }


def _operation(route: Route) -> dict:
    doc = {"summary": route.summary, "tags": [route.tag], "operationId": route.operation_id, "responses": _responses(route)}
    if route.body:
        doc["requestBody"] = {
            "required": not route.optional_body,
            "content": {"application/json": {"schema": _ref(route.body)}},
        }
    if route.auth:
        doc["security"] = [{"bearer": []}]
    parameters = [_parameter(p) for p in route.params] + (_query_parameters(route) if route.query else [])
    if parameters:
        doc["parameters"] = parameters
    return doc


def document(routes: list[Route], base_url: str) -> dict:
    paths: dict[str, dict] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Yatri API", "version": "1.0.0", "description": "Book treks, tours and events."},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas(tuple(routes)),
        },
    }


def handler(doc: dict):
    async def openapi_json(request: web.Request) -> web.Response:
        return web.json_response(doc)

    return openapi_json
