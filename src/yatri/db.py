"""Database wiring: the Tortoise configuration, a context per app, and migrations."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from tortoise.context import TortoiseContext, _current_context
from tortoise.migrations.api import migrate

from yatri import PROJECT_ROOT
from yatri.settings import Settings

MIGRATIONS_MODULE = "migrations"


def tortoise_config(database_url: str) -> dict:
    # The connection is named after its dialect because Tortoise caches SQL per connection
    # name: one process that opens both kinds (the test suite) must not mix their SQL.
    connection = urlsplit(database_url).scheme
    return {
        "connections": {connection: _with_busy_timeout(database_url)},
        "apps": {
            "models": {
                "models": ["yatri.models"],
                "default_connection": connection,
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _with_busy_timeout(database_url: str) -> str:
    """SQLite: wait up to 10 s for another process's write lock instead of failing at once."""
    if not database_url.startswith("sqlite://") or "busy_timeout" in database_url:
        return database_url
    return database_url + ("&" if "?" in database_url else "?") + "busy_timeout=10000"


def _prepare(database_url: str) -> None:
    """Make the migrations package importable and the SQLite file's folder exist."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    if database_url.startswith("sqlite://"):
        path = urlsplit(database_url).path
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def open_database(settings: Settings) -> TortoiseContext:
    _prepare(settings.database_url)
    ctx = TortoiseContext()
    with ctx:  # init needs the context active; requests enter it again (see request_context)
        await ctx.init(config=tortoise_config(settings.database_url))
    return ctx


@contextmanager
def database_context(ctx: TortoiseContext):
    """Make `ctx` the current Tortoise context for the running task.

    `with ctx:` keeps its reset token on the shared context object, so concurrent requests
    overwrite each other's token and fail on exit ("created in a different Context");
    here the token stays local to each request.
    """
    token = _current_context.set(ctx)
    try:
        yield ctx
    finally:
        _current_context.reset(token)


async def apply_migrations(database_url: str, progress=None, target: str | None = None) -> None:
    """Apply every pending migration in migrations/ to the database (or up to `target`,
    e.g. `models.0003_...`, as tests of a data migration do)."""
    _prepare(database_url)
    with TortoiseContext() as ctx:
        try:
            await migrate(config=tortoise_config(database_url), progress=progress, target=target)
        finally:
            await ctx.close_connections()


# For Tortoise's own command line (`make migrations` runs `tortoise makemigrations`).
TORTOISE_ORM = tortoise_config(Settings().database_url)
