"""What every API handler shares: the bearer user, JSON bodies, JSON answers."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from yatri.errors import (
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
)
from yatri.keys import SettingsKey
from yatri.models import User
from yatri.parsing import MAX_ID
from yatri.services.tokens import verify_access_token
from yatri.web.clock import now, today  # noqa: F401 - the API's handlers take them from here too

ApiUserKey = web.RequestKey("api_user", User)
MAX_BODY = 64 * 1024
_ENTITY_TAG = re.compile(r'(W/)?"v([0-9]{1,10})"')


def api_user(request: web.Request) -> User:
    return request[ApiUserKey]


async def _bearer_user(request: web.Request) -> User:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
    user_id = verify_access_token(token.strip(), request.app[SettingsKey], now(request))
    user = await User.get_or_none(id=user_id, is_active=True)
    if user is None:
        raise Unauthorized("This account is no longer active.")
    return user


def bearer_required(handler):
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        request[ApiUserKey] = await _bearer_user(request)
        return await handler(request)

    return wrapper


def bearer_admin(handler):
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        user = await _bearer_user(request)
        if not user.is_admin:
            raise PermissionDenied("This needs an operator's token.")
        request[ApiUserKey] = user
        return await handler(request)

    return wrapper


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object: 415 for other media types, 422 for bad JSON (nested too
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
    return body


def strings(body: Mapping[str, Any], *required: str, optional: tuple[str, ...] = ()) -> dict[str, str]:
    """Pick string fields from a body; a missing required field or a non-string is a field error."""
    values, errors = {}, {}
    for name in (*required, *optional):
        value = body.get(name)
        if value is None:
            if name in required:
                errors[name] = "This field is required."
        elif not isinstance(value, str):
            errors[name] = "This field must be a string."
        else:
            values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def no_store(response: web.Response) -> web.Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def etag(version: int) -> str:
    """The strong ETag of a record with a `version` column."""
    return f'"v{version}"'


def with_etag(response: web.Response, version: int) -> web.Response:
    response.headers["ETag"] = etag(version)
    return response


def if_match_version(request: web.Request, current: int) -> int | None:
    """The version an update is based on, from If-Match (None for `*`): 428 without the
    header, 412 when it names no version. The service compares it under its lock."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired("Send If-Match with the ETag you read, so that changes made meanwhile are not overwritten.")
    if header == "*":
        return None
    # Weak tags never match If-Match (RFC 9110, strong comparison).
    versions = [int(match[2]) for match in _ENTITY_TAG.finditer(header) if not match[1]]
    if not versions:
        raise PreconditionFailed("If-Match names no version of this resource: read it again and send its ETag.")
    return current if current in versions else versions[0]


def integer(body: Mapping[str, Any], name: str, low: int = 1, high: int = MAX_ID) -> int:
    """A required whole-number field within [low, high] (JSON true/false are not numbers here)."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError({name: f"This field must be a whole number from {low} to {high}."})
    return value
