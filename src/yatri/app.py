"""create_app(settings): wiring only."""

from __future__ import annotations

from datetime import datetime, timezone

import aiohttp_jinja2
import httpx2
import jinja2
from aiohttp import web
from aiohttp_session import session_middleware

from yatri import PROJECT_ROOT
from yatri.db import open_database
from yatri.jobs import work
from yatri.keys import CatalogueCacheKey, ClockKey, DatabaseKey, EventsKey, MediaKey, MetricsKey, NotifierKey, OidcKey, PageCacheKey, SettingsKey, StaticKey
from yatri.services.catalogue import EventVersion, QueryCache
from yatri.services.events import Events, PostgresListener, listener_dsn
from yatri.services.google import OidcProvider
from yatri.services.media import MAX_UPLOAD_BYTES, store_for
from yatri.services.notify import Notifier
from yatri.settings import Settings
from yatri.web import filters, seo
from yatri.web.auth import TEMPLATE_DEFAULTS, csrf_protect, load_user, template_context
from yatri.web.clients import forwarded_proto, rate_limit
from yatri.web.middlewares import error_pages, request_context, security_headers
from yatri.web.metrics import Metrics
from yatri.web.page_cache import PageCache
from yatri.web.routes import add_routes
from yatri.web.sessions import DatabaseStorage
from yatri.web.static import StaticAssets


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024,  # photo uploads: the media service gives the clear message
        middlewares=[
            request_context,
            security_headers,
            forwarded_proto,
            error_pages,
            rate_limit,
            session_middleware(DatabaseStorage(settings)),
            csrf_protect,
            load_user,
        ]
    )
    app[SettingsKey] = settings
    app[ClockKey] = lambda: datetime.now(timezone.utc)
    app[MetricsKey] = Metrics()
    app[StaticKey] = StaticAssets(PROJECT_ROOT / "static")
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        context_processors=[template_context, seo.page_context],
    )
    filters.install(env, settings, app[StaticKey])
    env.globals.update(TEMPLATE_DEFAULTS, canonical_url="")  # for pages rendered before the context processor ran
    app[NotifierKey] = Notifier(settings, _email_templates(settings, app[StaticKey]))
    app[EventsKey] = Events()
    # PostgreSQL: the catalogue version in memory, moved by NOTIFY (no query per request).
    # SQLite: the version row, read per request, so an edit from `yatri demo-data` or any
    # other process is seen too (events reach only the process that made them there).
    app[CatalogueCacheKey] = QueryCache(source=None if settings.is_sqlite else EventVersion(app[EventsKey]))
    app[PageCacheKey] = PageCache()
    app[MediaKey] = store_for(settings.cloudinary_url, settings.var_dir)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_events)
    app.on_shutdown.append(_end_streams)
    app.cleanup_ctx.append(work)  # after the database and events: stops before they close
    app.cleanup_ctx.append(_oidc)
    add_routes(app)
    return app


def _email_templates(settings: Settings, static: StaticAssets) -> jinja2.Environment:
    """Plain-text mail templates: no HTML escaping, same filters as the pages."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    filters.install(env, settings, static)
    return env


async def _database(app: web.Application):
    app[DatabaseKey] = await open_database(app[SettingsKey])
    yield
    await app[DatabaseKey].close_connections()


async def _events(app: web.Application):
    """On PostgreSQL, this process's LISTEN connection feeding app[EventsKey]."""
    settings = app[SettingsKey]
    if settings.is_sqlite:
        yield
        return
    listener = PostgresListener(app[EventsKey], listener_dsn(settings.database_url))
    await listener.start()
    yield
    await listener.stop()


async def _end_streams(app: web.Application) -> None:
    """Shutdown begins: open event streams end, so a graceful stop does not wait on them."""
    app[EventsKey].close()


async def _oidc(app: web.Application):
    """One httpx2 client for the OpenID provider's metadata and keys, closed at shutdown."""
    async with httpx2.AsyncClient(timeout=10) as http:
        app[OidcKey] = OidcProvider(http, app[SettingsKey].oidc_metadata_url)
        yield
