"""Reading a posted form, in one place: the CSRF check and every handler call `read_form`.

aiohttp's `request.post()` raises on a body that is not UTF-8 (`a=` and the byte 0xFF), on
an unknown charset, on a broken multipart body and on a body that does not decompress as its
Content-Encoding says; those are a 400 and nothing changes.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from yatri.errors import BadRequest
from yatri.web.render import is_htmx


async def read_form(request: web.Request) -> MultiDictProxy:
    """The form fields (aiohttp keeps them, so a second call does not read the body again)."""
    try:
        return await request.post()
    except (ValueError, LookupError, web.RequestPayloadError):  # UnicodeDecodeError is a ValueError
        raise BadRequest("The form could not be read. Send it again from the page, as UTF-8 text.") from None


# A form refused because its session or CSRF token expired comes back with what was typed
# (never a password or the old token): kept in the session for the form's page, shown once
# there, carried across a new login (`auth.login_user`) when the session had ended.
KEPT_FORM = "kept_form"
KeptKey = web.RequestKey("kept_form", dict)
MAX_KEPT_CHARS = 8000  # a session row, not a store: a bigger form is not kept


def typed_values(form: MultiDictProxy) -> dict[str, str]:
    """What a form carried that may come back into it: never a password or the token, and
    nothing when it is too big to keep."""
    values = {
        name: value for name, value in form.items()
        if isinstance(value, str) and name != "csrf_token" and "password" not in name
    }  # fmt: skip
    return values if sum(len(name) + len(value) for name, value in values.items()) <= MAX_KEPT_CHARS else {}


def keep_typed(session, path: str, values: dict[str, str]) -> None:
    """Keep `values` in the session for the first full page of `path` (after a login)."""
    session[KEPT_FORM] = {"path": path, "values": values}


def kept_values(request: web.Request, session) -> dict[str, str]:
    """What a refused form on this page carried: set for the request that refused it, or
    taken from the session by the first full page of its path (not by an htmx fragment)."""
    if KeptKey not in request:
        kept = session.get(KEPT_FORM) if session is not None else None
        values: dict[str, str] = {}
        if kept and kept.get("path") == request.path and not is_htmx(request):
            del session[KEPT_FORM]
            values = kept["values"]
        request[KeptKey] = values
    return request[KeptKey]
