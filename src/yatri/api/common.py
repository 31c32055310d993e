"""What every API handler shares: the bearer user, ETags and If-Match, the clock."""

from __future__ import annotations

import re

from aiohttp import web

from yatri.errors import PreconditionFailed, PreconditionRequired, Unauthorized
from yatri.keys import SettingsKey
from yatri.models import User
from yatri.services.tokens import verify_access_token
from yatri.web.clock import now, today  # noqa: F401 - the API's handlers take them from here too

ApiUserKey = web.RequestKey("api_user", User)
_ENTITY_TAG = re.compile(r'(W/)?"v([0-9]{1,10})"')


def api_user(request: web.Request) -> User:
    return request[ApiUserKey]


async def bearer_user(request: web.Request) -> User:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
    user_id = verify_access_token(token.strip(), request.app[SettingsKey], now(request))
    user = await User.get_or_none(id=user_id, is_active=True)
    if user is None:
        raise Unauthorized("This account is no longer active.")
    return user


NO_STORE = {"Cache-Control": "no-store"}  # tokens are never cached


def etag(version: int) -> dict[str, str]:
    """The ETag header of a record with a `version` column (a strong tag)."""
    return {"ETag": f'"v{version}"'}


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

