"""Server-side sessions for aiohttp-session, kept in the database.

The cookie holds only a random id; the table keys rows by its SHA-256, so a leaked
database does not leak usable cookies. Any server process can serve any session.
A session ends after `session_idle_minutes` without a request and, in any case,
`session_max_days` after it began. The row comes with its user in one query (a join),
kept on the request for `web.auth.load_user`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from aiohttp import web
from aiohttp_session import AbstractStorage, Session, get_session, new_session

from yatri.keys import ClockKey
from yatri.models import Session as SessionRow
from yatri.models import User
from yatri.settings import Settings

COOKIE_NAME = "yatri_session"
# Writing last_seen_at on every request would turn each page view into a write.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# The session row's user, read with the row: `web.auth.load_user` needs no query of its own.
SessionUserKey = web.RequestKey("session_user", User)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(AbstractStorage):
    def __init__(self, settings: Settings) -> None:
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.lifetime = timedelta(days=settings.session_max_days)
        super().__init__(
            cookie_name=COOKIE_NAME,
            max_age=int(self.lifetime.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=settings.production,
        )

    async def load_session(self, request: web.Request) -> Session:
        key = self.load_cookie(request)
        if not key:
            return Session(None, data=None, new=True, max_age=self.max_age)
        now = request.app[ClockKey]()
        row = await SessionRow.filter(key_hash=key_hash(str(key))).select_related("user").first()
        if row is None or row.expires_at <= now or row.last_seen_at + self.idle <= now:
            if row is not None:
                await row.delete()
            return Session(None, data=None, new=True, max_age=self.max_age)
        if row.user is not None:
            request[SessionUserKey] = row.user
        if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
            await SessionRow.filter(key_hash=row.key_hash).update(last_seen_at=now)
        return Session(str(key), data=row.data, new=False, max_age=self.max_age)

    async def save_session(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        if session.empty:
            if session.identity is not None:
                await SessionRow.filter(key_hash=key_hash(session.identity)).delete()
            self._save_cookie(request, response, "", session.max_age)
            return
        key = session.identity
        if key is None:
            key = secrets.token_urlsafe(32)
            self._save_cookie(request, response, key, session.max_age)
        now = request.app[ClockKey]()
        data = self._get_session_data(session)
        user_id = session.get("user_id")
        updated = await SessionRow.filter(key_hash=key_hash(key)).update(
            data=data, user_id=user_id, last_seen_at=now
        )
        if not updated:
            await SessionRow.create(
                key_hash=key_hash(key), data=data, user_id=user_id, last_seen_at=now, expires_at=now + self.lifetime
            )


    def _save_cookie(self, request: web.Request, response: web.StreamResponse, value: str, max_age: int) -> None:
        """Secure in production, and on any request made over HTTPS (a trusted proxy's
        X-Forwarded-Proto counts: see web.clients.forwarded_proto)."""
        self.save_cookie(response, value, max_age=max_age)
        if request.secure:
            response.cookies[self.cookie_name]["secure"] = True


async def rotate_session(request: web.Request, **data) -> Session:
    """Replace the session with a new id (at login, logout and role changes), keeping
    only `data`. The old id stops working at once."""
    old = await get_session(request)
    if old.identity is not None:
        await SessionRow.filter(key_hash=key_hash(old.identity)).delete()
    session = await new_session(request)
    session.update(data)
    if not data:
        session.invalidate()  # clears the cookie too
    return session


async def current_session_hash(request: web.Request) -> str | None:
    session = await get_session(request)
    return key_hash(session.identity) if session.identity else None
