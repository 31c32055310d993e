"""The API's contract: a route declares its models, this module holds it to them.

A `Route` names its body, query and response models (pydantic), its status, its auth and
its error statuses. `endpoint(route)` wraps the handler: it checks the bearer token,
reads and validates the input into the models (pydantic's errors become the 422 field
list), calls `handler(request, body=..., query=...)` and serialises what it returns
through the response model. `api/openapi.py` writes the document from the same routes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pydantic
from aiohttp import web
from pydantic import BaseModel, ConfigDict, WrapValidator
from pydantic_core import PydanticCustomError

from yatri.api.common import ApiUserKey, bearer_user
from yatri.errors import PermissionDenied, UnsupportedMediaType, ValidationError

MAX_BODY = 64 * 1024


class Body(BaseModel):
    """A request body: JSON types as written (no "5" for 5), no field the API does not know."""

    model_config = ConfigDict(extra="forbid", strict=True)
    unknown_field: ClassVar[str] = "This field cannot be set here."


class Query(BaseModel):
    """Query parameters: text, read by the same parsers as the HTML pages' filters."""

    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)


class Schema(BaseModel):
    """A response body; every field is always present (null when it has no value)."""

    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)


def said(message: str) -> WrapValidator:
    """Annotated[..., said("...")]: this message for any problem with the value itself
    (its type, its bounds); problems inside it (a list's items) keep their own."""

    def validate(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except pydantic.ValidationError as exc:
            if any(not error["loc"] for error in exc.errors()):
                raise PydanticCustomError("said", message) from None
            raise

    return WrapValidator(validate)


@dataclass(frozen=True)
class Param:
    """A path or header parameter: documented here, read by the handler."""

    name: str
    description: str
    where: Literal["path", "header"] = "path"
    kind: type = str
    required: bool = True


@dataclass(frozen=True)
class Reply:
    """A response body with headers (ETag, Location, Cache-Control)."""

    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Auth = Literal["", "user", "admin"]
Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[Body] | None = None
    optional_body: bool = False
    query: type[Query] | None = None
    response: type[Schema] | None = None  # None: 204 No Content
    status: int = 200
    auth: Auth = ""
    etag: bool = False  # the 2xx answer carries an ETag header
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    # Loads what validating the body needs from the database (pydantic's validation context).
    context: Callable[[web.Request], Awaitable[dict]] | None = None

    @property
    def operation_id(self) -> str:
        return f"{self.handler.__module__.rsplit('.', 1)[-1]}_{self.handler.__name__}"


def endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        if route.auth:
            user = await bearer_user(request)
            if route.auth == "admin" and not user.is_admin:
                raise PermissionDenied("This needs an operator's token.")
            request[ApiUserKey] = user
        inputs = {}
        if route.query is not None:
            given = {name: request.query[name] for name in _aliases(route.query) if name in request.query}
            inputs["query"] = validated(route.query, given, None)
        if route.body is not None:
            inputs["body"] = await _body(request, route)
        return answer(route, await route.handler(request, **inputs))

    handle.__name__ = route.handler.__name__
    return handle


def _aliases(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


async def _body(request: web.Request, route: Route) -> Body:
    if route.optional_body and not request.body_exists:
        return route.body()
    raw = await json_bytes(request)
    context = await route.context(request) if route.context else None
    return validated(route.body, raw, context)


async def json_bytes(request: web.Request) -> bytes:
    """The request's JSON text: 415 for other media types, 422 for bad JSON (nested too
    deep for the parser, or holding a lone surrogate like "\\ud800", which parses but can
    never be stored or sent back)."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    if (request.content_length or 0) > MAX_BODY:
        raise ValidationError({"body": "The body is too large."})
    try:
        raw = await request.read()
    except web.RequestPayloadError:  # it does not decompress as its Content-Encoding says
        raise ValidationError({"body": "The body could not be read."}) from None
    if len(raw) > MAX_BODY:
        raise ValidationError({"body": "The body is too large."})
    try:
        body = json.loads(raw or b"null")
        json.dumps(body, ensure_ascii=False).encode()
    except (ValueError, UnicodeError, RecursionError):
        raise ValidationError({"body": "The body is not valid JSON."}) from None
    if not isinstance(body, dict):
        raise ValidationError({"body": "The body must be a JSON object."})
    return raw


def validated(model: type[BaseModel], data: bytes | dict, context: dict | None) -> BaseModel:
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data, context=context)
        return model.model_validate(data, context=context)
    except pydantic.ValidationError as exc:
        raise ValidationError(field_errors(model, exc)) from None


# pydantic's error types as the messages the API has always given.
_MESSAGES = {
    "missing": "This field is required.",
    "string_type": "This field must be a string.",
    "int_type": "This field must be a whole number.",
    "int_parsing": "This field must be a whole number.",
    "int_from_float": "This field must be a whole number.",
    "bool_type": "This field must be true or false.",
    "list_type": "This field must be a list.",
    "model_type": "This field must be an object.",
    "enum": "Use one of: {expected}.",
}


def field_errors(model: type[BaseModel], exc: pydantic.ValidationError) -> dict[str, str]:
    """pydantic's errors as {field path: message}, the path as a client writes it (`travellers[0].age`)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
        if error["type"] == "extra_forbidden":
            message = getattr(model, "unknown_field", "This field cannot be set here.")
        elif error["type"] in _MESSAGES:
            message = _MESSAGES[error["type"]].format(**error.get("ctx", {}))
        else:
            message = error["msg"]
        errors.setdefault(name or "body", message)
    return errors


def answer(route: Route, result: Any) -> web.Response:
    reply = result if isinstance(result, Reply) else Reply(result)
    if route.response is None:
        return web.Response(status=route.status, headers=reply.headers)
    body = route.response.model_validate(reply.body)
    return web.json_response(text=body.model_dump_json(), status=route.status, headers=reply.headers)

