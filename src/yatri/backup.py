"""`yatri backup FILE` and `yatri restore FILE`: the database and the media in one tar.

The archive holds `manifest.json` (the database kind, its migration level, the time),
the database (`database.sqlite3`, copied with SQLite's online backup API, or
`database.pgdump`, PostgreSQL's `pg_dump -Fc`) and `media/` (YATRI_VAR_DIR/media).
Both run while the server serves: SQLite's backup API and pg_dump read a consistent
snapshot.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from yatri.errors import BadRequest, Conflict
from yatri.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "database.sqlite3", "postgres": "database.pgdump"}
_HAS_DATA = "SELECT 1 FROM {table} LIMIT 1"
_MIGRATION = "SELECT app || '.' || name FROM tortoise_migrations ORDER BY id DESC LIMIT 1"


@dataclass(frozen=True)
class Manifest:
    kind: str
    migration: str
    created_at: str
    format: int = FORMAT


def backup(settings: Settings, target: Path) -> Manifest:
    """Write the archive to `target` (through a temporary file, so a failed backup never
    leaves a half archive under the final name)."""
    kind = _kind(settings)
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / DUMPS[kind]
        migration = _dump_sqlite(settings, dump) if kind == "sqlite" else _dump_postgres(settings, dump)
        manifest = Manifest(kind, migration, datetime.now(UTC).isoformat(timespec="seconds"))
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest.__dict__, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=dump.name)
            media = settings.var_dir / "media"
            if media.is_dir():
                tar.add(media, arcname="media")
        os.replace(partial, target)
    return manifest


def restore(settings: Settings, source: Path, force: bool = False) -> Manifest:
    """Put the archive's database and media in place of the current ones. Refuses when the
    database already holds data, unless `force`."""
    kind = _kind(settings)
    with tempfile.TemporaryDirectory() as work, _open(source) as tar:
        manifest = _manifest(tar)
        if manifest.kind != kind:
            raise BadRequest(f"{source} holds a {manifest.kind} database but DATABASE_URL is {kind}")
        if not force and _has_data(settings, kind):
            raise Conflict("the database already holds data; restore with --force to replace it")
        tar.extractall(work, filter="data")
        dump = Path(work) / DUMPS[kind]
        _load_sqlite(settings, dump) if kind == "sqlite" else _load_postgres(settings, dump)
        media = settings.var_dir / "media"
        shutil.rmtree(media, ignore_errors=True)
        if (Path(work) / "media").is_dir():
            media.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(Path(work) / "media", media)
    return manifest


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgres"


def _open(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BadRequest(f"{source} is not a Yatri backup: {exc}") from None


def _manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        data = json.load(tar.extractfile(MANIFEST))
        manifest = Manifest(data["kind"], data["migration"], data["created_at"], data["format"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadRequest(f"{tar.name} is not a Yatri backup (no valid {MANIFEST})") from None
    if manifest.format != FORMAT or manifest.kind not in DUMPS:
        raise BadRequest(f"{tar.name} is a backup format this release cannot read")
    return manifest


# SQLite: the online backup API copies a consistent snapshot page by page, also while
# the server writes; restoring goes the same way, into the live file.


def _sqlite_path(settings: Settings) -> Path:
    return Path(urlsplit(settings.database_url).path)


def _dump_sqlite(settings: Settings, dump: Path) -> str:
    source = _sqlite_path(settings)
    if not source.exists():
        raise BadRequest(f"there is no database at {source} to back up")
    with _sqlite(source) as db, _sqlite(dump) as copy:
        db.backup(copy)
        return _sqlite_migration(copy)


def _load_sqlite(settings: Settings, dump: Path) -> None:
    target = _sqlite_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sqlite(dump) as copy, _sqlite(target) as db:
        copy.backup(db)


def _sqlite(path: Path) -> closing[sqlite3.Connection]:
    """A connection that waits up to 10 s for the server's write lock; closed after `with`
    (sqlite3's own `with` only commits)."""
    return closing(sqlite3.connect(path, timeout=10))


def _sqlite_migration(db: sqlite3.Connection) -> str:
    try:
        row = db.execute(_MIGRATION).fetchone()
    except sqlite3.OperationalError:  # never migrated
        return ""
    return row[0] if row else ""


def _sqlite_tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [name for (name,) in rows if name != "tortoise_migrations"]


def _has_data(settings: Settings, kind: str) -> bool:
    if kind == "sqlite":
        path = _sqlite_path(settings)
        if not path.exists():
            return False
        with _sqlite(path) as db:
            return any(db.execute(_HAS_DATA.format(table=f'"{t}"')).fetchone() for t in _sqlite_tables(db))
    tables = _psql(settings, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'")
    return any(_psql(settings, _HAS_DATA.format(table=f'"{t}"')) for t in tables)


# PostgreSQL: the client tools of Debian's postgresql-client, given the server's URL.


def _libpq_url(settings: Settings) -> str:
    """DATABASE_URL without Tortoise's own query options, which libpq does not know."""
    return urlunsplit(urlsplit(settings.database_url)._replace(query=""))


def _dump_postgres(settings: Settings, dump: Path) -> str:
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", f"--dbname={_libpq_url(settings)}"])
    rows = _psql(settings, _MIGRATION)
    return rows[0] if rows else ""


def _load_postgres(settings: Settings, dump: Path) -> None:
    _run([
        "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
        "--exit-on-error", f"--dbname={_libpq_url(settings)}", str(dump),
    ])  # fmt: skip


def _psql(settings: Settings, query: str) -> list[str]:
    out = _run(["psql", "--no-psqlrc", "--tuples-only", "--no-align", f"--dbname={_libpq_url(settings)}", "--command", query])
    return [line for line in out.splitlines() if line]


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BadRequest(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)") from None
    if done.returncode != 0:
        raise BadRequest(f"{command[0]} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return done.stdout
