"""Jinja filters and globals: money, dates in the operator's zone, static URLs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import jinja2

from yatri.services import media
from yatri.settings import Settings
from yatri.web.static import StaticAssets


def rupees(paise: int) -> str:
    """12345678 paise -> '₹1,23,456.78' (Indian digit grouping; whole rupees drop the paise)."""
    amount = Decimal(paise) / 100
    whole, _, fraction = f"{amount:.2f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    grouped = ",".join([*groups, tail])
    return f"{sign}₹{grouped}" + ("" if fraction == "00" else f".{fraction}")


def install(env: jinja2.Environment, settings: Settings, static: StaticAssets) -> None:
    zone = ZoneInfo(settings.timezone)

    def local(value: datetime | date, fmt: str = "%d %b %Y, %H:%M") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(zone)
        return value.strftime(fmt)

    env.filters["rupees"] = rupees
    env.filters["local"] = local
    env.globals["static_url"] = static.url
    env.globals["site_name"] = "Yatri"
    env.filters["srcset"] = media.srcset
    env.filters["image_src"] = media.src
