"""Reading a posted form, in one place: the CSRF check and every handler call `read_form`.

aiohttp's `request.post()` raises on a body that is not UTF-8 (`a=` and the byte 0xFF), on
an unknown charset, on a broken multipart body and on a body that does not decompress as its
Content-Encoding says; those are a 400 and nothing changes.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from yatri.errors import BadRequest


async def read_form(request: web.Request) -> MultiDictProxy:
    """The form fields (aiohttp keeps them, so a second call does not read the body again)."""
    try:
        return await request.post()
    except (ValueError, LookupError, web.RequestPayloadError):  # UnicodeDecodeError is a ValueError
        raise BadRequest("The form could not be read. Send it again from the page, as UTF-8 text.") from None
