"""Log in and log out."""

from __future__ import annotations

from aiohttp import web

from yatri.errors import ValidationError
from yatri.services import accounts
from yatri.web.auth import current_user, flash, login_user, logout_user, safe_next
from yatri.web.render import render


async def login_page(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    if current_user(request) is not None:
        raise web.HTTPFound(target)
    return render(request, "pages/login.html", {"form": {"email": ""}, "errors": {}, "next": target})


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    email = form.get("email", "")
    target = safe_next(form.get("next"))
    try:
        user = await accounts.authenticate(email, form.get("password", ""))
    except ValidationError as exc:
        context = {"form": {"email": email}, "errors": exc.errors, "next": target}
        return render(request, "pages/login.html", context, status=422)
    await login_user(request, user)
    await flash(request, f"Welcome back, {user.name}.")
    raise web.HTTPSeeOther(target)


async def logout(request: web.Request) -> web.Response:
    await logout_user(request)
    raise web.HTTPSeeOther("/")
