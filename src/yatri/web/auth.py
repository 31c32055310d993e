"""Who is asking: the signed-in user, login and logout, CSRF, and route guards.

Every handler that needs a user is wrapped in `require_login` or `require_admin`;
templates get `current_user`, `csrf_token` and flash `messages` from `template_context`.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from yarl import URL

from yatri.errors import PermissionDenied, YatriError
from yatri.keys import EventsKey
from yatri.models import User
from yatri.web.forms import KEPT_FORM, KeptKey, keep_typed, kept_values, read_form, typed_values
from yatri.web.render import is_htmx, wants_fragment
from yatri.web.sessions import SessionUserKey, rotate_session

UserKey = web.RequestKey("user", User | None)  # type: ignore[arg-type]

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Paths whose posts prove themselves another way: the API uses bearer tokens, and
# signed gateway webhooks carry an HMAC of their body.
CSRF_EXEMPT_PREFIXES = ("/api/", "/payments/webhook/")


FORM_KEPT = "This form has expired, so nothing was sent. We kept what you typed: check it and send it again."
FORM_READY = "This form had expired, so nothing was changed. It is ready again: send it once more."
SESSION_ENDED = (
    "This form has expired: your session ended, so nothing was sent. Log in again and we bring you "
    "back to the form with what you typed (never a password)."
)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NoticesKey = web.RequestKey("notices", list)  # messages for this request's page only


class CsrfFailed(PermissionDenied):
    title = "This form has expired"
    problem = "csrf-failed"

    def __init__(self, detail: str = "", *, fresh_token: str = "") -> None:
        super().__init__(
            detail or "This form has expired or did not come from this site, so nothing was changed. "
            "Reload the page and try again."
        )
        self.headers = {CSRF_HEADER: fresh_token} if fresh_token else {}


def current_user(request: web.Request) -> User | None:
    return request.get(UserKey)


@web.middleware
async def load_user(request: web.Request, handler):
    """Load the signed-in user once per request: read with the session row (no query of
    its own), and no query at all for visitors without a cookie."""
    request[UserKey] = None
    session = await get_session(request)
    user_id = session.get("user_id")
    if user_id is not None:
        user = request.get(SessionUserKey)
        if user is None or user.id != user_id:
            user = await User.get_or_none(id=user_id)
        user = user if user is not None and user.is_active else None
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
        if sent is None and request.content_type in FORM_TYPES:
            sent = (await read_form(request)).get(CSRF_FIELD)
        # Bytes: compare_digest refuses str with non-ASCII characters (a forged %FF token).
        if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode()):
            return await _refused(request, session)
    return await handler(request)


async def _refused(request: web.Request, session) -> web.StreamResponse:
    """A refused post changes nothing and loses nothing typed. Over htmx the form stays on
    the page and gets a fresh token (the X-CSRF-Token header; static/js/net.js puts it in
    place); when the session ended, a fresh token would only lead to the login page, so the
    form stays as typed, the message asks to log in again and the values wait in the session
    for the page the browser is on. A plain form comes back as its page with what was typed,
    a fresh token and a message, as a 403; when the session ended, the page asks to log in
    again and the values wait in the session. Without such a page: the refusal alone."""
    if is_htmx(request):
        if session.get("user_id") is None and (page_path := _current_page(request)):
            return await _htmx_log_in_again(request, session, page_path)
        raise CsrfFailed(FORM_READY, fresh_token=str(LazyCsrfToken(session)))
    found = _page_of(request)
    if found is None or request.content_type not in FORM_TYPES:
        raise CsrfFailed()
    page, page_path = found
    request[KeptKey] = typed_values(await read_form(request))
    request[NoticesKey] = [{"level": "error", "text": FORM_KEPT}]
    try:
        # The rest of the chain the page would have had: the user, then the templates' context.
        response = await load_user(request, lambda request: aiohttp_jinja2.context_processors_middleware(request, page))
    except web.HTTPException as exc:
        if exc.headers.get("Location", "").startswith("/login"):
            keep_typed(session, page_path, request[KeptKey])
            return _log_in_again(request, page_path)
        raise CsrfFailed() from None
    except YatriError:
        raise CsrfFailed() from None
    response.set_status(403)
    return response


def _current_page(request: web.Request) -> str | None:
    """The path of the page an htmx request came from (HX-Current-URL), when it is ours."""
    url = URL(request.headers.get("HX-Current-URL", ""))
    if url.is_absolute() and (url.host, url.port) != (request.url.host, request.url.port):
        return None
    return url.path if url.path.startswith("/") and not url.path.startswith("//") else None


async def _htmx_log_in_again(request: web.Request, session, page_path: str) -> web.Response:
    """An htmx post after the session ended: nothing sent, the form untouched on the page,
    its values kept for that page after a new login, and a Log in again link in #flash."""
    if request.content_type in FORM_TYPES:
        keep_typed(session, page_path, typed_values(await read_form(request)))
    login = str(URL("/login").with_query(next=page_path))
    context = {"messages": [{"level": "error", "text": SESSION_ENDED, "href": login, "label": "Log in again"}]}
    response = aiohttp_jinja2.render_template("fragments/flash.html", request, context, status=403)
    response.headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    return response


def _page_of(request: web.Request):
    """The form's page and its path: the GET at the post's own address, or else at its
    parent (a step such as /departures/{id}/book/review belongs to /departures/{id}/book);
    the pattern is the same or a prefix, so the post's match_info serves it. Or None."""
    canonical, path = request.match_info.route.resource.canonical, request.path
    for pattern, page_path in ((canonical, path), (canonical.rsplit("/", 1)[0], path.rsplit("/", 1)[0])):
        for resource in request.app.router.resources():
            if resource.canonical == pattern:
                for route in resource:
                    if route.method == "GET":
                        return route.handler, page_path
    return None


def _log_in_again(request: web.Request, page_path: str) -> web.Response:
    context = {
        "status": 403, "status_phrase": "Forbidden", "title": CsrfFailed.title, "detail": SESSION_ENDED,
        "request_id": "", "action": {"href": str(URL("/login").with_query(next=page_path)), "label": "Log in again"},
    }  # fmt: skip
    return aiohttp_jinja2.render_template("pages/error.html", request, context, status=403)


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


TEMPLATE_DEFAULTS = {"current_user": None, "csrf_token": LazyCsrfToken(None), "messages": [], "kept": {}, "live_since": ""}


async def template_context(request: web.Request) -> dict:
    """aiohttp-jinja2 context processor."""
    try:
        session = await get_session(request)
    except RuntimeError:  # an error raised before the session middleware ran
        session = None
    # A fragment (a live refresh, say) has no flash area: the messages wait for the next page.
    shown = session is not None and "flash" in session and not wants_fragment(request)
    messages = session.pop("flash", []) if shown else []
    return {
        "current_user": request.get(UserKey),
        "csrf_token": LazyCsrfToken(session),
        "messages": [*messages, *request.get(NoticesKey, [])],
        "kept": kept_values(request, session),
        "live_since": request.app[EventsKey].last_id,  # fragments/live.html: what a stream catches up from
    }


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
    """Start a signed-in session with a new id (no session fixation), keeping the values of
    a form refused because the old session had ended."""
    session = await get_session(request)
    carried = {KEPT_FORM: session[KEPT_FORM]} if KEPT_FORM in session else {}
    await rotate_session(request, user_id=user.id, role=str(user.role), **carried)
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
