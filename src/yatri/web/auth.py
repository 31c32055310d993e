"""Who is asking: the signed-in user, login and logout, CSRF, and route guards.

Every handler that needs a user is wrapped in `require_login` or `require_admin`;
templates get `current_user`, `csrf_token` and flash `messages` from `template_context`.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp_session import get_session
from yarl import URL

from yatri.errors import PermissionDenied
from yatri.models import User
from yatri.web.forms import read_form
from yatri.web.render import is_htmx
from yatri.web.sessions import rotate_session

UserKey = web.RequestKey("user", User | None)  # type: ignore[arg-type]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Paths whose posts prove themselves another way: the API uses bearer tokens, and
# signed gateway webhooks carry an HMAC of their body.
CSRF_EXEMPT_PREFIXES = ("/api/", "/payments/webhook/")


class CsrfFailed(PermissionDenied):
    title = "This form has expired"
    problem = "csrf-failed"

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from this site, so nothing was changed. "
            "Reload the page and try again."
        )


def current_user(request: web.Request) -> User | None:
    return request.get(UserKey)


@web.middleware
async def load_user(request: web.Request, handler):
    """Load the signed-in user once per request (no query for visitors without a cookie)."""
    request[UserKey] = None
    session = await get_session(request)
    user_id = session.get("user_id")
    if user_id is not None:
        user = await User.get_or_none(id=user_id, is_active=True)
        if user is None:  # deleted or disabled since login
            await rotate_session(request)
        elif str(user.role) != session.get("role"):  # a role change gets a new session id
            await rotate_session(request, **{**session, "role": str(user.role)})
        request[UserKey] = user
    return await handler(request)


@web.middleware
async def csrf_protect(request: web.Request, handler):
    """Refuse unsafe requests to HTML routes without the session's token (form field or
    the header HTMX sends); the handler never runs, so nothing changes."""
    unrouted = request.match_info.http_exception is not None  # 404/405 change nothing
    if request.method in UNSAFE_METHODS and not unrouted and not request.path.startswith(CSRF_EXEMPT_PREFIXES):
        session = await get_session(request)
        expected = session.get(CSRF_FIELD)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sent = (await read_form(request)).get(CSRF_FIELD)
        # Bytes: compare_digest refuses str with non-ASCII characters (a forged %FF token).
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode()):
            raise CsrfFailed()
    return await handler(request)


class LazyCsrfToken:
    """Renders as the CSRF token; makes one (and so a session) only when a template
    prints it, so pages without forms stay cookie-free and cacheable."""

    def __init__(self, session) -> None:
        self._session = session

    @property
    def exists(self) -> bool:
        return self._session is not None and CSRF_FIELD in self._session

    def __str__(self) -> str:
        if self._session is None:
            return ""
        if CSRF_FIELD not in self._session:
            self._session[CSRF_FIELD] = secrets.token_urlsafe(32)
        return self._session[CSRF_FIELD]

    __html__ = __str__


TEMPLATE_DEFAULTS = {"current_user": None, "csrf_token": LazyCsrfToken(None), "messages": []}


async def template_context(request: web.Request) -> dict:
    """aiohttp-jinja2 context processor."""
    try:
        session = await get_session(request)
    except RuntimeError:  # an error raised before the session middleware ran
        session = None
    messages = session.pop("flash", []) if session is not None and "flash" in session else []
    return {"current_user": request.get(UserKey), "csrf_token": LazyCsrfToken(session), "messages": messages}


async def flash(request: web.Request, text: str, level: str = "success") -> None:
    """A message shown once, on the next page rendered for this session."""
    session = await get_session(request)
    session["flash"] = [*session.get("flash", []), {"level": level, "text": text}]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never another site, whatever the link said."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\\"):
        return default
    return target


async def login_user(request: web.Request, user: User) -> None:
    """Start a signed-in session with a new id (no session fixation)."""
    await rotate_session(request, user_id=user.id, role=str(user.role))
    request[UserKey] = user


async def logout_user(request: web.Request) -> None:
    await rotate_session(request)
    request[UserKey] = None


def login_redirect(request: web.Request) -> web.HTTPException:
    target = request.path_qs if request.method == "GET" else request.headers.get("Referer", "/")
    location = str(URL("/login").with_query(next=safe_next(urlsplit(target).path if "://" in target else target)))
    if is_htmx(request):
        # A fragment swap cannot follow a redirect to a full page: ask htmx to navigate.
        return web.HTTPOk(headers={"HX-Redirect": location})
    return web.HTTPFound(location)


def require_login(handler):
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        if current_user(request) is None:
            raise login_redirect(request)
        return await handler(request)

    return wrapper


def require_admin(handler):
    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        user = current_user(request)
        if user is None:
            raise login_redirect(request)
        if not user.is_admin:
            raise PermissionDenied("This page is for the operator's staff only.")
        return await handler(request)

    return wrapper
