"""Fixtures: every test that touches data runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres):
a fresh database is created for the test session and dropped after. YATRI_TEST_DB=sqlite
(or =postgres) runs only one kind, for a quick local run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp import web

from yatri.app import create_app
from yatri.db import apply_migrations
from yatri.keys import DatabaseKey, SettingsKey
from yatri.settings import Settings

from tests.contract import ContractFailuresKey, check_responses
from tests.oidc_provider import LocalOpenIdProvider
from tests.smtp import SmtpServer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_CHOICE = os.environ.get("YATRI_TEST_DB", "both")
DB_KINDS = {"both": ["sqlite", "postgres"], "sqlite": ["sqlite"], "postgres": ["postgres"]}[DB_CHOICE]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _asyncpg(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)


async def create_postgres_database(name: str) -> str:
    try:
        conn = await _asyncpg(TEST_DATABASE_URL)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {TEST_DATABASE_URL} ({exc}). Start it, set "
            "TEST_DATABASE_URL, or run only SQLite with YATRI_TEST_DB=sqlite.",
            pytrace=False,
        )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(TEST_DATABASE_URL, name)


async def drop_postgres_database(name: str) -> None:
    conn = await _asyncpg(TEST_DATABASE_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A migrated PostgreSQL database for this test session; tests empty its tables."""
    name = f"yatri_test_{uuid.uuid4().hex[:10]}"
    url = asyncio.run(create_postgres_database(name))
    asyncio.run(apply_migrations(url))
    yield url
    asyncio.run(drop_postgres_database(name))


async def empty_postgres(url: str) -> None:
    conn = await _asyncpg(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=DB_KINDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "yatri.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    url = request.getfixturevalue("postgres_url")
    asyncio.run(empty_postgres(url))
    return url


@pytest.fixture
def shared_database_url(database_url) -> str:
    """For tests of several server processes on one database: PostgreSQL only, since
    several processes on one SQLite file are not supported."""
    if database_url.startswith("sqlite"):
        pytest.skip("several processes share PostgreSQL; SQLite serves with one process")
    return database_url


@pytest.fixture
def smtp_outbox():
    """A real local SMTP server; tests that ask for it get an app that mails to it."""
    with SmtpServer() as server:
        server.outbox.url = server.url
        yield server.outbox


@pytest.fixture
async def provider(aiohttp_server):
    """A local OpenID provider (Google's stand-in) on a free port."""
    provider = LocalOpenIdProvider()
    server = await aiohttp_server(provider.app)
    provider.url = str(server.make_url("")).rstrip("/")
    return provider


@pytest.fixture
def settings(request, database_url, tmp_path) -> Settings:
    smtp_url = request.getfixturevalue("smtp_outbox").url if "smtp_outbox" in request.fixturenames else ""
    return Settings(database_url=database_url, var_dir=tmp_path / "var", smtp_url=smtp_url)


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
async def aiohttp_client(aiohttp_client):
    """pytest-aiohttp's, and every /api/ answer a Yatri app gives it must be as the OpenAPI
    document says (tests/contract.py), or the test fails."""
    apps = []

    async def client_of(app, **kwargs):
        if isinstance(app, web.Application) and SettingsKey in app and ContractFailuresKey not in app:
            check_responses(app)
            apps.append(app)
        return await aiohttp_client(app, **kwargs)

    yield client_of
    failures = [failure for app in apps for failure in app[ContractFailuresKey]]
    assert not failures, "API responses that break /api/openapi.json:\n" + "\n".join(failures)


@pytest.fixture
async def client(aiohttp_client, app):
    """A client of the real app; the test body can also use the models directly."""
    client = await aiohttp_client(app)
    with app[DatabaseKey]:
        yield client
