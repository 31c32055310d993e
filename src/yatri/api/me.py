"""The signed-in user's own account."""

from __future__ import annotations

from aiohttp import web

from yatri.api import models as m
from yatri.api.common import api_user, etag, if_match_version
from yatri.api.contract import Reply
from yatri.services import accounts


def _user(user) -> Reply:
    return Reply(m.User.model_validate(user), etag(user.version))


async def me(request: web.Request) -> Reply:
    return _user(api_user(request))


async def update_me(request: web.Request, body: m.ProfileChange) -> Reply:
    """Fields left out keep their value; null clears one."""
    user = api_user(request)
    expected = if_match_version(request, user.version)
    changed = {**{"name": user.name, "phone": user.phone}, **body.model_dump(include=body.model_fields_set)}
    user = await accounts.update_profile(user, changed["name"] or "", changed["phone"] or "", expected_version=expected)
    return _user(user)
