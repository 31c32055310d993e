"""What time it is for a request: `app[ClockKey]` (tests move it), and the operator's date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from yatri.keys import ClockKey, SettingsKey


def now(request: web.Request) -> datetime:
    return request.app[ClockKey]()


def today(request: web.Request) -> date:
    """The date in the operator's zone: a departure "today" is today in India, not in UTC."""
    return now(request).astimezone(ZoneInfo(request.app[SettingsKey].timezone)).date()
