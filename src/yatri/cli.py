"""The `yatri` command line: serve, work, migrate, demo-data, create-admin, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

from tortoise.context import TortoiseContext

from yatri.db import ZERO, apply_migrations, migration_target, open_database
from yatri.errors import ValidationError, YatriError
from yatri.parsing import FieldError, whole_number
from yatri.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.command(settings, args) or 0
    except (SettingsError, YatriError) as exc:
        print(f"yatri: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yatri", description="Yatri booking platform")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_whole_number(0, 65535), default=8080)
    serve.add_argument("--workers", type=_whole_number(1, 64), default=1, help="server processes (gunicorn; PostgreSQL only)")
    serve.set_defaults(command=_serve)
    sub.add_parser("work", help="run the job worker alone (mail, hold expiry, clean-up), without serving").set_defaults(
        command=_work
    )
    migrate = sub.add_parser("migrate", help="apply pending database migrations, or go up or down to one")
    migrate.add_argument("--to", metavar="NAME", type=_migration_target, default=None,
                         help="stop at this migration (its name or number, e.g. 0003), undoing later ones; zero undoes all")  # fmt: skip
    migrate.set_defaults(command=_migrate)
    sub.add_parser("demo-data", help="load the demo catalogue and admin (idempotent)").set_defaults(
        command=_demo_data
    )
    backup = sub.add_parser("backup", help="write the database and the media into one archive file")
    backup.add_argument("file", type=Path)
    backup.set_defaults(command=_backup)
    restore = sub.add_parser("restore", help="restore an archive written by `yatri backup`")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true", help="replace a database that holds data")
    restore.set_defaults(command=_restore)
    admin = sub.add_parser("create-admin", help="create an admin; the password is read from a prompt or stdin")
    admin.add_argument("email")
    admin.add_argument("--name", default=None)
    admin.set_defaults(command=_create_admin)
    return parser


def _serve(settings: Settings, args) -> None:
    from yatri.serve import serve

    serve(settings, args.host, args.port, args.workers)


def _work(settings: Settings, args) -> None:
    """The app's startup without a listening socket: its job worker runs until SIGTERM or
    SIGINT, then stops as a server's does (running jobs finish or are given back)."""
    from yatri.log import configure_logging

    configure_logging(settings)
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    import signal

    from aiohttp import web

    from yatri.app import create_app

    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print("yatri: job worker running; SIGTERM stops it", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _whole_number(low: int, high: int):
    """An argparse type: ASCII digits in [low, high] (int() takes '٣' and 5,000 digits)."""

    def parse(text: str) -> int:
        message = f"must be a whole number from {low} to {high}, not {text[:20]!r}"
        try:
            return whole_number(text, low, high, message)
        except FieldError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _migration_target(text: str) -> str:
    try:
        return migration_target(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _migrate(settings: Settings, args) -> None:
    done = {"apply_done": "applied", "rollback_done": "unapplied"}

    def progress(event: str, app_label: str, name: str) -> None:
        if event in done:
            print(f"{done[event]} {app_label}.{name}")

    asyncio.run(apply_migrations(settings.database_url, progress=progress, target=args.to))
    if args.to is None:
        print("database is up to date")
    else:
        print("no migration is applied" if args.to == ZERO else f"database is at {args.to}")


def _backup(settings: Settings, args) -> None:
    from yatri.backup import backup
    from yatri.services.monitoring import record_backup

    manifest = backup(settings, args.file)
    try:
        record_backup(settings.var_dir, args.file, datetime.now(UTC))  # for /metrics and its alert
    except OSError as error:  # the archive is whole; the backup alert will say the time is missing
        print(f"yatri: warning: could not record the backup's time in {settings.var_dir}: {error}", file=sys.stderr)
    print(f"backed up the {manifest.kind} database ({manifest.migration or 'no migrations'}) and media to {args.file}")


def _restore(settings: Settings, args) -> None:
    from yatri.backup import restore

    manifest = restore(settings, args.file, force=args.force)
    print(f"restored the {manifest.kind} database ({manifest.migration or 'no migrations'}) "
          f"and media of {manifest.created_at}; run `yatri migrate` if this release is newer")  # fmt: skip


def _demo_data(settings: Settings, args) -> None:
    if settings.production:
        raise SettingsError("demo-data loads a known admin password; it refuses to run in production")
    from yatri.demo import load_demo_data

    from yatri.services.media import store_for

    store = store_for(settings.cloudinary_url, settings.var_dir)
    summary = asyncio.run(_with_database(settings, load_demo_data, None, store))
    print(
        f"demo data: {summary.destinations} destinations, {summary.trips} trips, "
        f"{summary.departures} departures ({summary.bookings_added} bookings added)"
    )
    print(f"admin login: {summary.admin_email} / {summary.admin_password}")


def _create_admin(settings: Settings, args) -> None:
    from yatri.services.accounts import create_admin

    password = _read_password()
    user, created = asyncio.run(_with_database(settings, create_admin, args.email, password, args.name))
    print(f"{'created' if created else 'updated'} admin {user.email}")


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise ValidationError({"password": "The passwords do not match."})
        return password
    return sys.stdin.readline().rstrip("\r\n")


async def _with_database(settings: Settings, func, *args):
    database: TortoiseContext = await open_database(settings)
    with database:
        try:
            return await func(*args)
        finally:
            await database.close_connections()
