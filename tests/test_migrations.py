"""`yatri migrate` builds the schema from migrations/ on an empty database of each kind."""

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError
from tortoise.migrations.autodetector import MigrationAutodetector

from tests.conftest import DB_KINDS, create_postgres_database, drop_postgres_database
from yatri.db import apply_migrations, tortoise_config
from yatri.models import (
    AuditLog, Booking, Departure, Destination, Payment, Refund, Role, Session, Traveller, Trip, User,
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
