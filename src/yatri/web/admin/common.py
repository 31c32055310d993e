"""What the admin handlers share."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from yatri.keys import SettingsKey
from yatri.models import User
from yatri.web.auth import current_user
from yatri.web.clock import now, today

__all__ = ["admin", "filled", "now", "today", "zone"]


def zone(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SettingsKey].timezone)


def admin(request: web.Request) -> User:
    """The signed-in admin (the route wrapper has already checked)."""
    user = current_user(request)
    assert user is not None
    return user


def filled(**params: str) -> dict[str, str]:
    """The query parameters that have a value: page links keep the filters, not the blanks."""
    return {key: value for key, value in params.items() if value}
