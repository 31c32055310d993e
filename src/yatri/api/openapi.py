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
        "Destination": {
            "type": "object",
            "required": ["slug", "name", "region", "description"],
            "properties": {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "region": {"type": "string"},
                "description": {"type": "string"},
            },
        },
        "DestinationList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Destination"}}},
        },
        "DestinationDetail": {
            "allOf": [{"$ref": "#/components/schemas/Destination"}],
            "type": "object",
            "required": ["trips"],
            "properties": {"trips": {"type": "array", "items": {"$ref": "#/components/schemas/TripSummary"}}},
        },
        "TripSummary": {
            "type": "object",
            "required": ["slug", "title", "kind", "destination", "days", "difficulty", "price_paise", "summary", "next_departure"],
            "properties": {
                "slug": {"type": "string"},
                "title": {"type": "string"},
                "kind": {"enum": ["trek", "tour", "event"]},
                "destination": {"type": "string"},
                "days": {"type": "integer"},
                "difficulty": {"enum": ["easy", "moderate", "challenging"]},
                "price_paise": {"type": "integer", "description": "Price per person in paise"},
                "summary": {"type": "string"},
                "next_departure": {"type": ["string", "null"], "format": "date"},
            },
        },
        "TripList": {
            "type": "object",
            "required": ["items", "total", "page", "pages"],
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/TripSummary"}},
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "pages": {"type": "integer"},
            },
        },
        "Departure": {
            "type": "object",
            "required": ["id", "starts_on", "ends_on", "price_paise", "capacity", "seats_left", "state"],
            "properties": {
                "id": {"type": "integer"},
                "starts_on": {"type": "string", "format": "date"},
                "ends_on": {"type": "string", "format": "date"},
                "price_paise": {"type": "integer"},
                "capacity": {"type": "integer"},
                "seats_left": {"type": "integer"},
                "state": {"enum": ["available", "filling_fast", "sold_out"]},
            },
        },
        "TripDetail": {
            "allOf": [{"$ref": "#/components/schemas/TripSummary"}],
            "type": "object",
            "required": ["description", "itinerary", "inclusions", "exclusions", "cancellation_policy", "max_per_booking", "departures"],
            "properties": {
                "description": {"type": "string"},
                "itinerary": {"type": "array"},
                "inclusions": {"type": "array", "items": {"type": "string"}},
                "exclusions": {"type": "array", "items": {"type": "string"}},
                "cancellation_policy": {"type": "array"},
                "max_per_booking": {"type": "integer"},
                "departures": {"type": "array", "items": {"$ref": "#/components/schemas/Departure"}},
            },
        },
        "User": {
            "type": "object",
            "required": ["id", "email", "name", "phone", "role", "email_verified", "version"],
            "properties": {
                "id": {"type": "integer"},
                "email": {"type": "string"},
                "name": {"type": "string"},
                "phone": {"type": ["string", "null"]},
                "role": {"enum": ["traveller", "admin"]},
                "email_verified": {"type": "boolean"},
                "version": {"type": "integer", "description": "Goes up on every change; the ETag is \"v<version>\""},
            },
        },
        "ProfileChange": {
            "type": "object",
            "description": "The fields to change; an empty or null phone clears it.",
            "properties": {"name": {"type": "string"}, "phone": {"type": ["string", "null"]}},
            "additionalProperties": False,
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
    etag: bool = False  # the 2xx answer carries an ETag header
    errors: tuple[int, ...] = field(default=())
    parameters: tuple[dict, ...] = field(default=())


def query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema or {"type": "string"}}


def path(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema or {"type": "string"}}


TRIP_FILTERS = (
    query("q", "Words in the title, destination or description"),
    query("destination", "A destination slug"),
    query("kind", "trek, tour or event"),
    query("from", "Departures on or after this date (YYYY-MM-DD)"),
    query("to", "Departures on or before this date (YYYY-MM-DD)"),
    query("min_price", "Lowest price per person in rupees"),
    query("max_price", "Highest price per person in rupees"),
    query("difficulty", "easy, moderate or challenging"),
    query("sort", "next, price, price_desc or duration"),
    query("page", "Page number, from 1"),
)


def header(name: str, description: str) -> dict:
    return {"name": name, "in": "header", "required": True, "description": description, "schema": {"type": "string"}}


IF_MATCH = header("If-Match", 'The ETag you read, like "v3" (or * to overwrite whatever is there)')


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def _operation(op: Operation) -> dict:
    success = {"description": op.summary}
    if op.response:
        success["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.response}"}}}
    if op.etag:
        success["headers"] = {"ETag": {"description": "The version, for If-Match", "schema": {"type": "string"}}}
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
