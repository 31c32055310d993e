"""The signed-in user's own account."""

from __future__ import annotations

from aiohttp import web

from yatri.api.common import api_user, bearer_required


def user_json(user) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "role": str(user.role),
        "email_verified": user.email_verified,
    }


@bearer_required
async def me(request: web.Request) -> web.Response:
    return web.json_response(user_json(api_user(request)))
