"""Jinja filters and globals: money, dates in the operator's zone, static URLs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import jinja2

from yatri.services import media, pricing, seo
from yatri.services.money import rupees
from yatri.settings import Settings
from yatri.web.static import StaticAssets


def install(env: jinja2.Environment, settings: Settings, static: StaticAssets) -> None:
    zone = ZoneInfo(settings.timezone)

    def local(value: datetime | date, fmt: str = "%d %b %Y, %H:%M") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(zone)
        return value.strftime(fmt)

    env.filters["rupees"] = rupees
    env.filters["trip_price"] = pricing.trip_price
    env.filters["departure_price"] = pricing.departure_price
    env.filters["local"] = local
    env.globals["static_url"] = static.url
    env.globals["site_name"] = "Yatri"
    env.globals["base_url"] = settings.base_url
    env.globals["operator"] = {"phone": settings.operator_phone, "whatsapp": settings.operator_whatsapp, "email": settings.operator_email}
    env.globals["cover_url"] = lambda images: seo.cover_url(images, settings.base_url)
    env.filters["srcset"] = media.srcset
    env.filters["image_src"] = media.src
