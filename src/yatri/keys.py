"""Typed keys for app-wide state (`app[SettingsKey]`) and per-request values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from tortoise.context import TortoiseContext

from yatri.services.notify import Notifier
from yatri.services.catalogue import QueryCache
from yatri.services.events import Events
from yatri.services.google import OidcProvider
from yatri.services.media import MediaStore
from yatri.settings import Settings
from yatri.web.metrics import Metrics
from yatri.web.page_cache import PageCache
from yatri.web.static import StaticAssets

SettingsKey = web.AppKey("settings", Settings)
DatabaseKey = web.AppKey("database", TortoiseContext)
StaticKey = web.AppKey("static", StaticAssets)
NotifierKey = web.AppKey("notifier", Notifier)
MetricsKey = web.AppKey("metrics", Metrics)
# Change events of this process (services/events): streams and caches subscribe
EventsKey = web.AppKey("events", Events)
# What time it is: tests replace it to move time forward.
ClockKey = web.AppKey("clock", Callable[[], datetime])
# Catalogue area
CatalogueCacheKey = web.AppKey("catalogue_cache", QueryCache)
PageCacheKey = web.AppKey("page_cache", PageCache)  # rendered pages (web/page_cache.py)
MediaKey = web.AppKey("media", MediaStore)
# Accounts area: the OpenID provider (Google) with its cached metadata and keys
OidcKey = web.AppKey("oidc", OidcProvider)
RequestIdKey = web.RequestKey("request_id", str)
