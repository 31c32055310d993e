"""The OpenAPI 3.1 document, built from the same table that registers the API routes."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

PROBLEM = {"$ref": "#/components/schemas/Problem"}

COMPONENTS = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
    "schemas": {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "request_id": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        },
        "Credentials": {
            "type": "object",
            "required": ["email", "password"],
            "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
        },
        "RefreshRequest": {
            "type": "object",
            "required": ["refresh_token"],
            "properties": {"refresh_token": {"type": "string"}},
        },
        "TokenPair": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "refresh_token"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer"},
                "refresh_token": {"type": "string"},
            },
        },
        "User": {
            "type": "object",
            "required": ["id", "email", "name", "phone", "role", "email_verified"],
            "properties": {
                "id": {"type": "integer"},
                "email": {"type": "string"},
                "name": {"type": "string"},
                "phone": {"type": ["string", "null"]},
                "role": {"enum": ["traveller", "admin"]},
                "email_verified": {"type": "boolean"},
            },
        },
    },
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: object
    summary: str
    tag: str
    request: str | None = None  # a schema name in COMPONENTS
    response: str | None = None  # the 2xx body's schema name; None for 204
    status: int = 200
    auth: bool = False
    errors: tuple[int, ...] = field(default=())
    parameters: tuple[dict, ...] = field(default=())


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def _operation(op: Operation) -> dict:
    success = {"description": op.summary}
    if op.response:
        success["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.response}"}}}
    responses = {str(op.status): success}
    errors = set(op.errors)
    if op.request:
        errors |= {415, 422}
    if op.auth:
        errors |= {401}
    for status in sorted(errors):
        responses[str(status)] = _problem(_ERROR_TEXT[status])
    doc = {"summary": op.summary, "tags": [op.tag], "responses": responses, "operationId": _operation_id(op)}
    if op.request:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.request}"}}},
        }
    if op.auth:
        doc["security"] = [{"bearer": []}]
    if op.parameters:
        doc["parameters"] = list(op.parameters)
    return doc


def _operation_id(op: Operation) -> str:
    return getattr(op.handler, "__module__", "").rsplit(".", 1)[-1] + "_" + getattr(op.handler, "__name__", "op")


_ERROR_TEXT = {
    400: "Bad request",
    401: "Missing, expired or invalid token",
    403: "Not allowed for this token",
    404: "Not found",
    409: "Conflict with the current state",
    412: "The resource changed since it was read",
    415: "The body is not application/json",
    422: "Invalid fields",
    428: "If-Match is required",
    429: "Too many attempts",
}


def document(operations: list[Operation], base_url: str) -> dict:
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Yatri API", "version": "1.0.0", "description": "Book treks, tours and events."},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": COMPONENTS,
    }


def handler(doc: dict):
    async def openapi_json(request: web.Request) -> web.Response:
        return web.json_response(doc)

    return openapi_json
