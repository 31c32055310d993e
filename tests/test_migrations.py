"""`yatri migrate` builds the schema from migrations/ on an empty database of each kind."""

import asyncio
import importlib
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError
from tortoise.migrations.autodetector import MigrationAutodetector

from tests.conftest import DB_KINDS, create_postgres_database, drop_postgres_database
from tests.test_backup import PG_TABLES, TABLES, fetch, snapshot
from yatri.db import apply_migrations, migration_names, migration_target, tortoise_config
from yatri.models import (
    AccountToken, AuditLog, Booking, CatalogueVersion, Departure, Destination, Job, LoginAttempt, Payment, RateCounter, RefreshToken, Refund,
    Role, Session, Traveller, Trip, User, WaitlistEntry, WebhookEvent,
)  # fmt: skip
from yatri.services.booking import new_reference


@pytest.fixture(params=DB_KINDS)
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/fresh.sqlite3"
        return
    name = f"yatri_migrate_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_postgres_database(name))
    yield url
    asyncio.run(drop_postgres_database(name))


async def _use_every_model() -> None:
    place = await Destination.create(slug="hampi", name="Hampi", region="Karnataka")
    trip = await Trip.create(
        slug="hampi-ruins", title="Hampi ruins walk", kind="tour", destination=place, days=2,
        difficulty="easy", price_paise=4_999_00, summary="Temples and boulders", is_published=True,
        cancellation_policy=[{"min_days": 30, "percent": 90}, {"min_days": 0, "percent": 0}],
    )  # fmt: skip
    departure = await Departure.create(
        trip=trip, starts_on=date(2027, 1, 9), ends_on=date(2027, 1, 10), capacity=12
    )
    user = await User.create(email="asha@example.com", name="Asha", role=Role.ADMIN)
    now = datetime.now(UTC)
    await Session.create(key_hash="a" * 64, user=user, data={"csrf": "x"}, last_seen_at=now, expires_at=now + timedelta(hours=1))
    booking = await Booking.create(
        reference=new_reference(), user=user, departure=departure, seats=2, status="held",
        unit_price_paise=4_999_00, subtotal_paise=9_998_00, gst_paise=49_990, total_paise=10_497_90,
    )  # fmt: skip
    await Traveller.create(booking=booking, position=1, full_name="Asha Rao", age=31)
    payment = await Payment.create(booking=booking, method="upi_qr", amount_paise=10_497_90, status="submitted", utr="412345678901")
    await Refund.create(booking=booking, payment=payment, amount_paise=9_448_11)
    await AuditLog.create(actor=user, entity="booking", entity_id=booking.reference, action="held", to_state="held")
    await WaitlistEntry.create(departure=departure, user=user, party_size=2, status="waiting")
    assert (await Departure.get(id=departure.id)).offer_hours == 12

    loaded = await Booking.get(id=booking.id).prefetch_related("travellers", "payments", "refunds", "departure__trip")
    assert loaded.total_paise == 10_497_90 and isinstance(loaded.total_paise, int)
    assert loaded.departure.trip.cancellation_policy[0] == {"min_days": 30, "percent": 90}
    assert [t.full_name for t in loaded.travellers] == ["Asha Rao"]
    assert loaded.payments[0].utr == "412345678901" and loaded.refunds[0].status == "pending"
    assert (await Session.get(key_hash="a" * 64)).expires_at.tzinfo is not None
    assert await AuditLog.filter(entity_id=booking.reference).count() == 1


async def test_migrate_builds_a_schema_that_serves_every_model(empty_database_url):
    await apply_migrations(empty_database_url)
    await apply_migrations(empty_database_url)  # a second run has nothing to do
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(empty_database_url))
        await _use_every_model()


def test_yatri_migrate_command_reports_applied_migrations(tmp_path):
    env = {"DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3", "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-m", "yatri", "migrate"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "applied models.0001_initial" in first.stdout
    second = subprocess.run([sys.executable, "-m", "yatri", "migrate"], env=env, capture_output=True, text=True)
    assert "applied" not in second.stdout and "up to date" in second.stdout


async def test_models_have_no_changes_missing_from_migrations(tmp_path):
    config = tortoise_config(f"sqlite://{tmp_path}/detect.sqlite3")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    assert writers == [], "models changed without a migration: run `make migrations`"


async def test_identities_linked_before_the_issuer_column_are_google_ones(empty_database_url):
    """Migration 0004: rows with a subject get Google's issuer; a subject alone is no longer unique."""
    config = tortoise_config(empty_database_url)
    await apply_migrations(empty_database_url, target="models.0003_auto_20261125_1038")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        insert = "INSERT INTO users (email, name, role, email_verified, google_sub, is_active, version, created_at, updated_at) VALUES "
        await ctx.connections.get(next(iter(config["connections"]))).execute_script(
            insert + "('meera@example.com', 'Meera', 'traveller', true, '1098', true, 1, '2026-11-30', '2026-11-30');"
            + insert + "('asha@example.com', 'Asha', 'traveller', true, NULL, true, 1, '2026-11-30', '2026-11-30');"
        )  # fmt: skip
    await apply_migrations(empty_database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert (await User.get(email="meera@example.com")).oidc_issuer == "https://accounts.google.com"
        assert (await User.get(email="asha@example.com")).oidc_issuer is None
        await User.create(email="ravi@example.com", name="Ravi", oidc_issuer="https://login.example.org", google_sub="1098")
        with pytest.raises(IntegrityError):
            await User.create(email="x@example.com", name="X", oidc_issuer="https://accounts.google.com", google_sub="1098")


async def _fill_every_table(url: str) -> None:
    """A row in every table, including what later migrations relaxed: an attempt never
    checked (succeeded NULL) and the same subject at two issuers."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await _use_every_model()
        now = datetime.now(UTC)
        google = await User.create(email="meera@example.com", name="Meera", oidc_issuer="https://accounts.google.com", google_sub="77")
        await User.create(email="ravi@example.com", name="Ravi", oidc_issuer="https://login.example.org", google_sub="77")
        await LoginAttempt.create(email="meera@example.com", ip="203.0.113.9", succeeded=None)
        await LoginAttempt.create(email="meera@example.com", ip="203.0.113.9", succeeded=True)
        await RefreshToken.create(user=google, family="f" * 32, token_hash="b" * 64, expires_at=now + timedelta(days=1))
        await RateCounter.create(bucket="api", client="203.0.113.9", minute=1, hits=3)
        await AccountToken.create(user=google, purpose="verify_email", token_hash="c" * 64, expires_at=now)
        await WebhookEvent.create(provider="razorpay", event_id="evt_1", event_type="payment.captured")
        await CatalogueVersion.create()
        await Job.create(kind="mail", payload={"to": "meera@example.com"}, run_at=now)


def test_every_migration_has_a_downgrade():
    for name in migration_names():
        module = importlib.import_module(f"migrations.{name}")
        irreversible = [op for op in module.Migration.operations if not op.reversible]
        assert not irreversible, f"{name} cannot be undone: {irreversible}"


async def _rows(url: str) -> tuple[dict[str, int], list[str]]:
    """Each table's row count (the applied migrations apart), and the booking references."""
    level = await snapshot(url)
    applied = level["counts"].pop("tortoise_migrations")
    assert applied == len(await fetch(url, "SELECT name FROM tortoise_migrations"))
    return level["counts"], level["references"]


async def test_walk_down_and_up_every_migration_with_data(empty_database_url):
    """Down one migration at a time to the first, up again, to zero and back: the rows
    survive every step whose tables survive it, and the last step serves every model."""
    url = empty_database_url
    names = migration_names()
    await apply_migrations(url)
    await _fill_every_table(url)
    filled, references = await _rows(url)
    assert all(filled.values()) and references, filled  # every table holds a row
    tables_at = {names[-1]: set(filled)}
    for name in reversed(names[:-1]):
        await apply_migrations(url, target=migration_target(name))
        counts, level_references = await _rows(url)
        tables_at[name] = set(counts)
        assert level_references == references
        assert counts == {table: filled[table] for table in counts}
        assert len(await fetch(url, "SELECT name FROM tortoise_migrations")) == names.index(name) + 1
    assert "rate_counters" not in tables_at[names[3]] and "refresh_tokens" not in tables_at[names[0]]
    # Down past 0005 an unchecked attempt counts as failed; past 0004 a subject means Google's.
    assert await fetch(url, "SELECT succeeded FROM login_attempts ORDER BY id") in ([(False,), (True,)], [(0,), (1,)])
    assert await fetch(url, "SELECT email FROM users WHERE google_sub = '77'") == [("meera@example.com",)]

    for name in names[1:]:
        await apply_migrations(url, target=migration_target(name))
        counts, level_references = await _rows(url)
        assert set(counts) == tables_at[name] and level_references == references
        assert counts == {table: filled[table] if table in tables_at[names[0]] else 0 for table in counts}
    assert await fetch(url, "SELECT oidc_issuer FROM users WHERE email = 'meera@example.com'") == [("https://accounts.google.com",)]

    await apply_migrations(url, target=migration_target("zero"))
    assert await fetch(url, PG_TABLES if url.startswith("postgres") else TABLES) == [("tortoise_migrations",)]
    await apply_migrations(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await _use_every_model()


def test_yatri_migrate_to_goes_down_and_up(tmp_path):
    env = {"DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3", "PATH": "/usr/bin:/bin"}

    def migrate(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "yatri", "migrate", *args], env=env, capture_output=True, text=True)

    names = migration_names()
    assert migrate().returncode == 0
    down = migrate("--to", names[1][:4])
    assert down.returncode == 0, down.stderr
    assert [line for line in down.stdout.splitlines() if line.startswith("unapplied")] == [
        f"unapplied models.{name}" for name in reversed(names[2:])
    ]
    assert f"database is at models.{names[1]}" in down.stdout
    assert "unapplied models.0001_initial" in migrate("--to", "zero").stdout
    up = migrate("--to", names[2])
    assert up.stdout.splitlines()[:3] == [f"applied models.{name}" for name in names[:3]]
    for wrong in ("9", "000", "x" * 5000):
        refused = migrate("--to", wrong)
        assert refused.returncode == 2 and "argument --to" in refused.stderr and "Traceback" not in refused.stderr
    assert "or zero" in migrate("--to", "9").stderr
