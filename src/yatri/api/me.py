"""The signed-in user's own account."""

from __future__ import annotations

from aiohttp import web

from yatri.api.common import api_user, bearer_required, if_match_version, json_body, with_etag
from yatri.errors import ValidationError
from yatri.services import accounts

EDITABLE = ("name", "phone")


def user_json(user) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "role": str(user.role),
        "email_verified": user.email_verified,
        "version": user.version,
    }


@bearer_required
async def me(request: web.Request) -> web.Response:
    user = api_user(request)
    return with_etag(web.json_response(user_json(user)), user.version)


@bearer_required
async def update_me(request: web.Request) -> web.Response:
    user = api_user(request)
    expected = if_match_version(request, user.version)
    name, phone = _profile(await json_body(request), user)
    user = await accounts.update_profile(user, name, phone, expected_version=expected)
    return with_etag(web.json_response(user_json(user)), user.version)


def _profile(body: dict, user) -> tuple[str, str]:
    """The name and phone after this patch: fields left out keep their value."""
    errors = {name: "This field cannot be changed here." for name in body if name not in EDITABLE}
    for name in EDITABLE:
        if name in body and not (body[name] is None or isinstance(body[name], str)):
            errors[name] = "This field must be a string or null."
    if errors:
        raise ValidationError(errors)
    return body.get("name", user.name) or "", body.get("phone", user.phone) or ""
