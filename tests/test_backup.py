"""`yatri backup` and `yatri restore` on both databases: the demo data and the media come
back after the database is wiped; a restore over data needs --force."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import tarfile
import uuid
from pathlib import Path

import asyncpg
import pytest

from yatri.db import apply_migrations
from yatri.services.monitoring import last_backup

from tests.conftest import DB_KINDS, create_postgres_database, drop_postgres_database
from tests.live import BIN

TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
PG_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
REFERENCES = "SELECT reference FROM bookings ORDER BY reference"


@pytest.fixture(params=DB_KINDS)
def own_database(request, tmp_path):
    """A migrated database of its own: the test wipes it."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'yatri.sqlite3'}"
        asyncio.run(apply_migrations(url))
        yield url
        return
    name = f"yatri_backup_{uuid.uuid4().hex[:10]}"
    url = asyncio.run(create_postgres_database(name))
    asyncio.run(apply_migrations(url))
    yield url
    asyncio.run(drop_postgres_database(name))


def yatri(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN / "yatri", *args], env=env, capture_output=True, text=True, timeout=120)


async def snapshot(url: str) -> dict:
    """Every table's row count, and the booking references."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            tables = [name for (name,) in db.execute(TABLES)]
            counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            return {"counts": counts, "references": [r for (r,) in db.execute(REFERENCES)]}
    db = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        tables = [row[0] for row in await db.fetch(PG_TABLES)]
        counts = {t: await db.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
        return {"counts": counts, "references": [row[0] for row in await db.fetch(REFERENCES)]}
    finally:
        await db.close()


async def execute(url: str, sql: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            db.execute(sql)
        return
    db = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await db.execute(sql)
    finally:
        await db.close()


async def fetch(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return [tuple(row) for row in db.execute(sql)]
    db = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [tuple(row) for row in await db.fetch(sql)]
    finally:
        await db.close()


async def wipe(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite://"))
        path.unlink()
        path.touch()  # a new empty file
        return
    await execute(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")


async def test_a_backup_of_the_demo_data_restores_after_a_wipe(own_database, tmp_path):
    var = tmp_path / "var"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": own_database, "YATRI_VAR_DIR": str(var)}
    assert yatri(env, "demo-data").returncode == 0
    photo = var / "media" / "trips" / "hampta.webp"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"RIFF-a-photo")
    before = await snapshot(own_database)
    assert before["references"] and before["counts"]["bookings"] == len(before["references"])

    archive = tmp_path / "yatri.backup"
    done = yatri(env, "backup", str(archive))
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "media/trips/hampta.webp" in names
    assert last_backup(var)["bytes"] == archive.stat().st_size  # for /metrics and its alert

    refused = yatri(env, "restore", str(archive))
    assert refused.returncode == 2
    assert refused.stderr == "yatri: error: the database already holds data; restore with --force to replace it\n"

    await wipe(own_database)
    photo.unlink()
    with pytest.raises((sqlite3.OperationalError, asyncpg.UndefinedTableError)):
        await snapshot(own_database)  # no tables left
    done = yatri(env, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert await snapshot(own_database) == before
    assert photo.read_bytes() == b"RIFF-a-photo"
    assert yatri(env, "migrate").stdout == "database is up to date\n"  # the migration level came back too

    # --force replaces the data that is there: a change made after the backup is undone.
    await execute(own_database, f"UPDATE bookings SET reference = 'CHANGED' WHERE reference = '{before['references'][0]}'")
    assert (await snapshot(own_database))["references"] != before["references"]
    assert yatri(env, "restore", "--force", str(archive)).returncode == 0
    assert await snapshot(own_database) == before


def test_restore_refuses_what_is_not_a_backup(own_database, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": own_database, "YATRI_VAR_DIR": str(tmp_path / "var")}
    junk = tmp_path / "junk.tar"
    junk.write_text("not a tar")
    done = yatri(env, "restore", str(junk))
    assert done.returncode == 2
    assert done.stderr.startswith(f"yatri: error: {junk} is not a Yatri backup")
