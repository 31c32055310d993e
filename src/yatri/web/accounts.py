"""Accounts pages: sign up, verify the email, log in and out, reset and change the password,
edit the profile. Each handler parses the form, calls one accounts service and renders."""

from __future__ import annotations

from aiohttp import web
from aiohttp_session import get_session

from yatri.errors import TooManyRequests, ValidationError
from yatri.keys import NotifierKey, SettingsKey
from yatri.models import TokenPurpose, User
from yatri.services import accounts
from yatri.web.auth import current_user, flash, login_user, logout_user, require_login, safe_next
from yatri.web.clients import client_address, costly
from yatri.web.clock import now
from yatri.web.forms import kept_values, read_form
from yatri.web.render import render
from yatri.web.sessions import current_session_hash


def _text(form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def auth_context(request: web.Request, **context) -> dict:
    """What the login and sign-up pages share: the Google button only when it is set up."""
    return {"errors": {}, "google": bool(request.app[SettingsKey].google_client_id), **context}


async def send_verification(request: web.Request, user: User) -> str:
    """Mail a new confirmation link: "sent" (queued for delivery) or "limited" (enough links this hour)."""
    return await accounts.mail_verification(user, now(request), request.app[NotifierKey])


RESEND_OUTCOMES = {
    "sent": ("success", "We sent a new link to {email}."),
    "limited": ("warning", "We sent several links in the last hour: please use the latest, or try later."),
}


# Log in and out


async def login_page(request: web.Request) -> web.Response:
    kept = kept_values(request, await get_session(request))  # a login form refused as expired
    target = safe_next(request.query.get("next") or kept.get("next"))
    if current_user(request) is not None:
        raise web.HTTPFound(target)
    return render(request, "pages/login.html", auth_context(request, form={"email": ""}, next=target))


async def login(request: web.Request) -> web.Response:
    form = await read_form(request)
    email = _text(form, "email")
    target = safe_next(_text(form, "next"))
    try:
        user = await accounts.attempt_login(email, _text(form, "password"), ip=client_address(request), now=now(request))
    except (ValidationError, TooManyRequests) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"__all__": exc.detail}
        response = render(
            request, "pages/login.html", auth_context(request, form={"email": email}, errors=errors, next=target),
            status=exc.status,
        )  # fmt: skip
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    await login_user(request, user)
    await flash(request, f"Welcome back, {user.name}.")
    raise web.HTTPSeeOther(target)


async def logout(request: web.Request) -> web.Response:
    await logout_user(request)
    raise web.HTTPSeeOther("/")


# Sign up and verify the email


async def signup_page(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    if current_user(request) is not None:
        raise web.HTTPFound(target)
    form = {"name": "", "email": "", "phone": ""}
    return render(request, "pages/signup.html", auth_context(request, form=form, next=target))


@costly
async def signup(request: web.Request) -> web.Response:
    form = await read_form(request)
    values = {name: _text(form, name) for name in ("name", "email", "phone")}
    target = safe_next(_text(form, "next"))
    try:
        user = await accounts.sign_up(password=_text(form, "password"), **values)
    except ValidationError as exc:
        context = auth_context(request, form=values, errors=exc.errors, next=target)
        return render(request, "pages/signup.html", context, status=422)
    await send_verification(request, user)  # a new account is never limited
    await login_user(request, user)
    await flash(request, f"Welcome, {user.name}. We sent a link to {user.email}: open it to confirm your email.")
    raise web.HTTPSeeOther(target)


async def verify_email(request: web.Request) -> web.Response:
    try:
        user = await accounts.verify_email(request.query.get("token", ""), now(request))
    except ValidationError as exc:
        signed_in = current_user(request) is not None
        context = {"title": "Link not valid", "detail": exc.detail, "resend": signed_in, "reset": False}
        return render(request, "pages/link_invalid.html", context, status=400)
    await flash(request, f"Thank you: {user.email} is confirmed.")
    raise web.HTTPSeeOther("/account" if current_user(request) else "/login")


@require_login
async def resend_verification(request: web.Request) -> web.Response:
    user = current_user(request)
    if not user.email_verified:
        level, text = RESEND_OUTCOMES[await send_verification(request, user)]
        await flash(request, text.format(email=user.email), level)
    raise web.HTTPSeeOther("/account")


# Forgotten password


async def reset_request_page(request: web.Request) -> web.Response:
    return render(request, "pages/password_reset.html", {"form": {"email": ""}, "errors": {}, "sent": False})


async def reset_request(request: web.Request) -> web.Response:
    email = _text(await read_form(request), "email")
    try:
        await accounts.mail_password_reset(email, now(request), request.app[NotifierKey])
    except ValidationError as exc:
        context = {"form": {"email": email}, "errors": exc.errors, "sent": False}
        return render(request, "pages/password_reset.html", context, status=422)
    # The same answer whether or not there is an account with this email.
    context = {"form": {"email": email}, "errors": {}, "sent": True}
    return render(request, "pages/password_reset.html", context)


async def reset_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    try:
        await accounts.token_user(token, TokenPurpose.RESET_PASSWORD, now(request))
    except ValidationError as exc:
        return _reset_link_invalid(request, exc)
    return render(request, "pages/password_new.html", {"token": token, "errors": {}})


async def reset(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    password = _text(await read_form(request), "password")
    try:
        user = await accounts.reset_password(token, password, now(request))
    except ValidationError as exc:
        if "token" in exc.errors:
            return _reset_link_invalid(request, exc)
        return render(request, "pages/password_new.html", {"token": token, "errors": exc.errors}, status=422)
    await login_user(request, user)
    await flash(request, "Your password is changed, and you are logged in. Other devices were logged out.")
    raise web.HTTPSeeOther("/account")


def _reset_link_invalid(request: web.Request, exc: ValidationError) -> web.Response:
    detail = f"{exc.detail} Ask for a new one: reset links work once, for an hour."
    context = {"title": "Reset link not valid", "detail": detail, "resend": False, "reset": True}
    return render(request, "pages/link_invalid.html", context, status=400)


# The account page


def _account_context(user: User, **context) -> dict:
    return {
        "profile": {"name": user.name, "phone": user.phone or ""},
        "errors": {},
        "password_errors": {},
        **context,
    }


@require_login
async def account_page(request: web.Request) -> web.Response:
    return render(request, "pages/account.html", _account_context(current_user(request)))


@require_login
async def update_profile(request: web.Request) -> web.Response:
    form = await read_form(request)
    user = current_user(request)
    values = {"name": _text(form, "name"), "phone": _text(form, "phone")}
    try:
        await accounts.update_profile(user, **values)
    except ValidationError as exc:
        context = _account_context(user, profile=values, errors=exc.errors)
        return render(request, "pages/account.html", context, status=422)
    await flash(request, "Your details are saved.")
    raise web.HTTPSeeOther("/account")


@require_login
async def change_password(request: web.Request) -> web.Response:
    form = await read_form(request)
    user = current_user(request)
    try:
        await accounts.change_password(
            user, _text(form, "current_password"), _text(form, "new_password"), now(request),
            await current_session_hash(request),
        )  # fmt: skip
    except ValidationError as exc:
        context = _account_context(user, password_errors=exc.errors)
        return render(request, "pages/account.html", context, status=422)
    await flash(request, "Your password is changed. Other devices were logged out.")
    raise web.HTTPSeeOther("/account")
