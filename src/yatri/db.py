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
APP_LABEL = "models"


def tortoise_config(database_url: str) -> dict:
    # The connection is named after its dialect because Tortoise caches SQL per connection
    # name: one process that opens both kinds (the test suite) must not mix their SQL.
    connection = urlsplit(database_url).scheme
    return {
        "connections": {connection: _with_busy_timeout(database_url)},
        "apps": {
            APP_LABEL: {
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
    return _with_param(database_url, "busy_timeout=10000")


def _with_param(database_url: str, param: str) -> str:
    return database_url + ("&" if "?" in database_url else "?") + param


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
    """Apply every pending migration in migrations/ to the database, or go up or down to
    `target` (`models.0003_...`: that one and those before it stay applied; `ZERO`: none)."""
    _prepare(database_url)
    sqlite = database_url.startswith("sqlite://")
    # SQLite changes a column by copying the table and dropping the old one, which the
    # rows referring to it forbid while foreign keys are enforced: off for migrations,
    # checked after (SQLite's documented way to alter a table).
    config = tortoise_config(_with_param(database_url, "foreign_keys=OFF") if sqlite else database_url)
    with TortoiseContext() as ctx:
        try:
            await migrate(config=config, progress=progress, target=target)
            if sqlite:
                await _check_foreign_keys(ctx.connections.get(next(iter(config["connections"]))))
        finally:
            await ctx.close_connections()


async def _check_foreign_keys(connection) -> None:
    _, broken = await connection.execute_query("PRAGMA foreign_key_check")
    if broken:
        raise RuntimeError(f"a migration left rows whose foreign keys point nowhere: {[tuple(row) for row in broken[:5]]}")


# `yatri migrate --to zero` unapplies every migration (Tortoise's name for before the first).
ZERO = f"{APP_LABEL}.__first__"


def migration_names() -> list[str]:
    """The migrations in migrations/, oldest first (their names start with a number)."""
    return sorted(path.stem for path in (PROJECT_ROOT / MIGRATIONS_MODULE).glob("[0-9][0-9][0-9][0-9]_*.py"))


def migration_target(name: str) -> str:
    """`yatri migrate --to NAME`: a migration's name or the start of one (`0003`), or
    `zero`, as the target apply_migrations takes. ValueError names the choices."""
    if name == "zero":
        return ZERO
    names = migration_names()
    matches = [known for known in names if known == name] or [known for known in names if known.startswith(name)]
    if len(matches) != 1:
        raise ValueError(f"{name[:80]!r} is {'ambiguous' if matches else 'not a migration'}: "
                         f"one of {', '.join(names)} or zero")  # fmt: skip
    return f"{APP_LABEL}.{matches[0]}"


# For Tortoise's own command line (`make migrations` runs `tortoise makemigrations`).
TORTOISE_ORM = tortoise_config(Settings().database_url)
