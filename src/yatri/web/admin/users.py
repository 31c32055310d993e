"""/admin/users: find accounts, make someone an admin or a traveller again.

With HTMX the role form swaps its table row (the refusal to demote the last admin shows
in the row); without JavaScript it posts and comes back to the list with a message.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from yatri.errors import Conflict, ValidationError
from yatri.services import admin_users
from yatri.web.admin import forms
from yatri.web.admin.common import admin as current_admin
from yatri.web.admin.common import filled
from yatri.web.auth import flash, logout_user, safe_next
from yatri.web.forms import read_form
from yatri.web.render import is_htmx, render


async def user_list(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    role = request.query.get("role", "all")
    role = role if role in admin_users.ROLES else "all"
    page = await admin_users.list_users(q, role, forms.page_number(request.query.get("page")))
    context = {
        "page": page, "q": q, "role": role, "roles": admin_users.ROLES, "back": request.path_qs, "errors": {},
        "pager_params": filled(q=q, role="" if role == "all" else role),
    }  # fmt: skip
    return render(request, "admin/users.html", context)


async def change_role(request: web.Request) -> web.Response:
    form = await read_form(request)
    actor = current_admin(request)
    back = safe_next(str(form.get("next", "")), "/admin/users")
    user = await admin_users.get_user(request.match_info["id"])
    try:
        user = await admin_users.set_role(user.id, forms.role(form), actor)
    except (ValidationError, Conflict) as exc:
        if is_htmx(request):
            return _row(request, user, back, exc.detail, status=exc.status)
        await flash(request, exc.detail, "error")
        raise web.HTTPSeeOther(back) from None
    if user.id == actor.id:  # their own sessions were just ended
        await logout_user(request)
        raise web.HTTPSeeOther("/login")
    if is_htmx(request):
        return _row(request, user, back)
    await flash(request, f"{user.name} is now {'an admin' if user.is_admin else 'a traveller'}; they sign in again.")
    raise web.HTTPSeeOther(back)


def _row(request: web.Request, user: Any, back: str, error: str = "", status: int = 200) -> web.Response:
    context = {"user": user, "back": back, "errors": {user.id: error} if error else {}}
    return render(request, "fragments/admin/user_row.html", context, status=status)


def routes() -> list[tuple[str, str, Any, str]]:
    return [
        ("GET", "/admin/users", user_list, "admin_users"),
        ("POST", "/admin/users/{id:[0-9]+}/role", change_role, "admin_user_role"),
    ]
