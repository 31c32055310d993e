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
                "type": {"type": "string", "description": "about:blank (the title is the HTTP status phrase) or /problems/<slug>"},
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
        "TravellerInput": {
            "type": "object",
            "description": "One traveller. The first is the lead: phone, email and an emergency contact are required for them.",
            "required": ["full_name", "age"],
            "properties": {
                "full_name": {"type": "string"},
                "age": {"type": "integer", "minimum": 1, "maximum": 100},
                "gender": {"enum": ["female", "male", "other", "", None]},
                "phone": {"type": ["string", "null"]},
                "email": {"type": ["string", "null"]},
                "emergency_contact_name": {"type": ["string", "null"]},
                "emergency_contact_phone": {"type": ["string", "null"]},
            },
        },
        "BookingRequest": {
            "type": "object",
            "required": ["departure_id", "travellers"],
            "properties": {
                "departure_id": {"type": "integer"},
                "travellers": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/TravellerInput"}},
            },
        },
        "Booking": {
            "type": "object",
            "required": ["reference", "status", "status_label", "seats", "unit_price_paise", "subtotal_paise", "gst_paise",
                         "total_paise", "hold_expires_at", "created_at", "cancelled_at", "trip", "departure"],
            "properties": {
                "reference": {"type": "string"},
                "status": {"enum": ["held", "pending_payment", "payment_submitted", "confirmed", "cancelled", "refunded", "expired"]},
                "status_label": {"type": "string"},
                "seats": {"type": "integer"},
                "unit_price_paise": {"type": "integer"},
                "subtotal_paise": {"type": "integer"},
                "gst_paise": {"type": "integer"},
                "total_paise": {"type": "integer", "description": "What to pay, in paise"},
                "hold_expires_at": {"type": ["string", "null"], "format": "date-time", "description": "Pay before this or the seats go"},
                "created_at": {"type": "string", "format": "date-time"},
                "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                "trip": {"type": "object", "required": ["slug", "title"],
                         "properties": {"slug": {"type": "string"}, "title": {"type": "string"}}},
                "departure": {"type": "object", "required": ["id", "starts_on", "ends_on"],
                              "properties": {"id": {"type": "integer"}, "starts_on": {"type": "string", "format": "date"},
                                             "ends_on": {"type": "string", "format": "date"}}},
            },
        },
        "BookingDetail": {
            "allOf": [{"$ref": "#/components/schemas/Booking"}],
            "type": "object",
            "required": ["travellers", "payments", "refunds", "refund_quote"],
            "properties": {
                "travellers": {"type": "array", "items": {"$ref": "#/components/schemas/TravellerInput"}},
                "payments": {"type": "array", "items": {
                    "type": "object", "required": ["method", "amount_paise", "status", "utr", "submitted_at", "rejection_reason"],
                    "properties": {
                        "method": {"enum": ["upi_qr", "gateway"]}, "amount_paise": {"type": "integer"},
                        "status": {"enum": ["initiated", "submitted", "verified", "rejected", "refunded"]},
                        "utr": {"type": ["string", "null"]}, "submitted_at": {"type": ["string", "null"], "format": "date-time"},
                        "rejection_reason": {"type": ["string", "null"]},
                    }}},
                "refunds": {"type": "array", "items": {
                    "type": "object", "required": ["amount_paise", "status", "reason"],
                    "properties": {"amount_paise": {"type": "integer"}, "status": {"enum": ["pending", "paid"]}, "reason": {"type": "string"}}}},
                "refund_quote": {
                    "description": "What cancelling today gives back; null when the booking cannot be cancelled",
                    "oneOf": [{"type": "null"}, {
                        "type": "object", "required": ["days_before", "percent", "paid_paise", "amount_paise"],
                        "properties": {"days_before": {"type": "integer"}, "percent": {"type": "integer"},
                                       "paid_paise": {"type": "integer"}, "amount_paise": {"type": "integer"}}}],
                },
            },
        },
        "BookingList": {
            "type": "object",
            "required": ["upcoming", "past", "ended"],
            "properties": {
                name: {"type": "array", "items": {"$ref": "#/components/schemas/Booking"}} for name in ("upcoming", "past", "ended")
            },
        },
        "AdminTrip": {
            "type": "object",
            "required": ["id", "slug", "title", "kind", "destination", "days", "difficulty", "price_paise", "summary", "description",
                         "itinerary", "inclusions", "exclusions", "cancellation_policy", "max_per_booking", "featured",
                         "is_published", "version"],
            "properties": {
                "id": {"type": "integer"}, "slug": {"type": "string"}, "title": {"type": "string"},
                "kind": {"enum": ["trek", "tour", "event"]}, "destination": {"type": "string", "description": "The destination's slug"},
                "days": {"type": "integer"}, "difficulty": {"enum": ["easy", "moderate", "challenging"]},
                "price_paise": {"type": "integer"}, "summary": {"type": "string"}, "description": {"type": "string"},
                "itinerary": {"type": "array"}, "inclusions": {"type": "array", "items": {"type": "string"}},
                "exclusions": {"type": "array", "items": {"type": "string"}}, "cancellation_policy": {"type": "array"},
                "max_per_booking": {"type": "integer"}, "featured": {"type": "boolean"}, "is_published": {"type": "boolean"},
                "version": {"type": "integer", "description": 'The ETag is "v<version>"'},
            },
        },
        "AdminTripList": {
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AdminTrip"}}},
        },
        "TripChange": {
            "type": "object",
            "description": "Trip fields to set; the same rules and messages as the admin pages.",
            "properties": {
                "title": {"type": "string"}, "slug": {"type": "string"}, "kind": {"enum": ["trek", "tour", "event"]},
                "destination": {"type": "string"}, "days": {"type": "integer"},
                "difficulty": {"enum": ["easy", "moderate", "challenging"]}, "price_paise": {"type": "integer"},
                "summary": {"type": "string"}, "description": {"type": "string"},
                "inclusions": {"type": "array", "items": {"type": "string"}},
                "exclusions": {"type": "array", "items": {"type": "string"}},
                "cancellation_policy": {"type": "array", "items": {
                    "type": "object", "required": ["min_days", "percent"],
                    "properties": {"min_days": {"type": "integer"}, "percent": {"type": "integer"}}}},
                "max_per_booking": {"type": "integer"}, "featured": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "TripInput": {
            "allOf": [{"$ref": "#/components/schemas/TripChange"}],
            "description": "A new trip (a draft until published); the slug defaults to one made from the title.",
            "required": ["title", "kind", "destination", "days", "difficulty", "price_paise", "summary"],
        },
        "AdminDeparture": {
            "type": "object",
            "required": ["id", "trip_id", "starts_on", "ends_on", "capacity", "price_paise", "unit_price_paise", "seats_taken",
                         "seats_left", "sales_closed", "cancelled_at", "state"],
            "properties": {
                "id": {"type": "integer"}, "trip_id": {"type": "integer"},
                "starts_on": {"type": "string", "format": "date"}, "ends_on": {"type": "string", "format": "date"},
                "capacity": {"type": "integer"}, "price_paise": {"type": ["integer", "null"], "description": "null: the trip's price"},
                "unit_price_paise": {"type": "integer"}, "seats_taken": {"type": "integer"}, "seats_left": {"type": "integer"},
                "sales_closed": {"type": "boolean"}, "cancelled_at": {"type": ["string", "null"], "format": "date-time"},
                "state": {"enum": ["open", "closed", "cancelled"]},
            },
        },
        "AdminDepartureList": {
            "type": "object", "required": ["upcoming", "past"],
            "properties": {name: {"type": "array", "items": {"$ref": "#/components/schemas/AdminDeparture"}} for name in ("upcoming", "past")},
        },
        "DepartureInput": {
            "type": "object", "required": ["starts_on", "capacity"],
            "properties": {
                "starts_on": {"type": "string", "format": "date"},
                "ends_on": {"type": "string", "format": "date", "description": "Defaults to the start plus the trip's days"},
                "capacity": {"type": "integer"}, "price_paise": {"type": "integer", "description": "Leave out for the trip's price"},
            },
        },
        "DepartureChange": {
            "type": "object",
            "properties": {"capacity": {"type": "integer"}, "sales_closed": {"type": "boolean"}},
            "additionalProperties": False,
        },
        "DepartureCancel": {"type": "object", "properties": {"reason": {"type": "string"}}},
        "DepartureCancelled": {
            "type": "object", "required": ["departure", "cancelled_bookings"],
            "properties": {
                "departure": {"$ref": "#/components/schemas/AdminDeparture"},
                "cancelled_bookings": {"type": "array", "items": {"type": "string"}, "description": "References, each refunded in full"},
            },
        },
        "GoogleIdToken": {
            "type": "object",
            "required": ["id_token"],
            "properties": {"id_token": {"type": "string", "description": "The ID token Google Sign-In gave the app"}},
        },
        "UtrSubmission": {
            "type": "object",
            "required": ["utr"],
            "properties": {"utr": {"type": "string", "description": "The 12-digit UPI transaction reference"}},
        },
        "PaymentInfo": {
            "type": "object",
            "required": ["reference", "status", "payable", "amount_paise", "hold_expires_at", "payee_name", "vpa",
                         "upi_link", "qr_svg", "payments", "refunds"],
            "properties": {
                "reference": {"type": "string"},
                "status": {"$ref": "#/components/schemas/Booking/properties/status"},
                "payable": {"type": "boolean", "description": "Whether a UTR can be sent now"},
                "amount_paise": {"type": "integer"},
                "hold_expires_at": {"type": ["string", "null"], "format": "date-time"},
                "payee_name": {"type": "string"},
                "vpa": {"type": "string"},
                "upi_link": {"type": "string", "description": "The upi://pay deep link"},
                "qr_svg": {"type": "string", "description": "The link as an SVG QR code"},
                "payments": {"$ref": "#/components/schemas/BookingDetail/properties/payments"},
                "refunds": {"$ref": "#/components/schemas/BookingDetail/properties/refunds"},
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
    optional_body: bool = False
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


IDEMPOTENCY_KEY = {**header("Idempotency-Key", "Any unique string (a UUID): a retry with the same key returns the same booking"), "required": False}
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
    errors = set(op.errors) | {429}  # the per-client rate limit applies to every operation
    if op.request:
        errors |= {415, 422}
    if op.auth:
        errors |= {401}
    for status in sorted(errors):
        responses[str(status)] = _problem(_ERROR_TEXT[status])
    doc = {"summary": op.summary, "tags": [op.tag], "responses": responses, "operationId": _operation_id(op)}
    if op.request:
        doc["requestBody"] = {
            "required": not op.optional_body,
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
    429: "Too many attempts or requests: wait the seconds in Retry-After",
    503: "A service we depend on cannot be reached",
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
