"""The app under fuzz: a real server in a thread of its own, seeded with one of everything,
with signed-in identities that every example can use, and a fingerprint of what is saved.

The hypothesis tests are plain functions that speak HTTP to it, so each example is a
real request through every middleware, exactly as a client would send it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from aiohttp import web

from yatri.app import create_app
from yatri.db import database_context
from yatri.keys import DatabaseKey, SettingsKey
from yatri.models import (
    Booking,
    BookingStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Role,
    Session,
)
from yatri.services.tokens import access_token
from yatri.settings import Settings
from yatri.web.auth import CSRF_FIELD
from yatri.web.sessions import COOKIE_NAME, key_hash

from tests.admin_data import make_booking, make_departure, make_trip
from tests.helpers import make_user

# Tables whose rows a refused request may rightly write: who is signed in, and the
# counters that throttle refused attempts.
UNWATCHED_TABLES = {"sessions", "login_attempts", "tortoise_migrations", "rate_counters"}
# The job worker runs beside the requests: it reschedules periodic jobs and moves queued
# ones to done. What a request may not do is add a job, so only which jobs exist counts.
WATCHED_QUERIES = {"jobs": "SELECT id, kind, payload FROM jobs WHERE periodic IS NULL"}


@dataclass
class Identity:
    """A signed-in browser (session cookie and its CSRF token) and its API bearer token."""

    name: str
    user_id: int | None
    role: str
    cookie: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    bearer: str = ""


@dataclass
class Seed:
    """Real values for path parameters, by parameter name."""

    values: dict[str, list[str]]


class FuzzServer:
    def __init__(self, database_url: str, var_dir) -> None:
        # The per-client limits would answer most examples with 429: fuzz what is behind them.
        self.settings = Settings(
            database_url=database_url, var_dir=var_dir, razorpay_webhook_secret="whsec-fuzz",
            rate_limit_api_per_minute=10**6, rate_limit_forms_per_minute=10**6,
        )  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.identities: list[Identity] = []
        self.seed: Seed | None = None
        self.port = 0

    # ------------------------------------------------------------ life cycle

    def __enter__(self) -> FuzzServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(120)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def call(self, coro, timeout: float = 60):
        """Run a coroutine on the server's loop, in the server's database context."""

        async def in_context():
            with database_context(self.app[DatabaseKey]):
                return await coro

        return asyncio.run_coroutine_threadsafe(in_context(), self.loop).result(timeout)

    async def _start(self) -> None:
        self.app = create_app(self.settings)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        with database_context(self.app[DatabaseKey]):
            await self._seed()

    # ------------------------------------------------------------ data

    async def _seed(self) -> None:
        trip = await make_trip()
        departure = await make_departure(trip, date.today() + timedelta(days=30), capacity=40)
        traveller = await make_user("asha@example.com", name="Asha Rao")
        admin = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
        far = datetime.now(timezone.utc) + timedelta(days=3650)
        people = [{"full_name": "Asha Rao", "age": 30}]
        held = await make_booking(departure, traveller, status=BookingStatus.HELD, hold_expires_at=far, travellers=people, reference="YT-FZ0001")
        submitted = await make_booking(departure, traveller, status=BookingStatus.PAYMENT_SUBMITTED, hold_expires_at=far, travellers=people, reference="YT-FZ0002")
        await make_booking(departure, traveller, status=BookingStatus.CONFIRMED, travellers=people, reference="YT-FZ0003")
        payment = await Payment.create(
            booking=submitted, method=PaymentMethod.UPI_QR, amount_paise=submitted.total_paise,
            status=PaymentStatus.SUBMITTED, utr="412345678901", submitted_at=datetime.now(timezone.utc),
        )  # fmt: skip
        self.seed = Seed(
            {
                "id": [str(trip.id), str(departure.id), str(payment.id), str(admin.id), str(traveller.id)],
                "ref": [held.reference, submitted.reference, "YT-FZ0003"],
                "slug": [trip.slug, "manali"],
                "field": ["title", "summary", "price", "days", "difficulty", "name", "region"],
                "name": ["css/site.css", "0123456789abcdef01234567-480.webp"],
                "token": [secrets.token_urlsafe(32)],
            }
        )
        self.identities = [
            Identity("visitor", None, ""),
            Identity("traveller", traveller.id, Role.TRAVELLER.value),
            Identity("admin", admin.id, Role.ADMIN.value),
        ]
        now = datetime.now(timezone.utc)
        for identity in self.identities:
            if identity.user_id is not None:
                user = traveller if identity.user_id == traveller.id else admin
                identity.bearer = access_token(user, self.app[SettingsKey], now)
        await self._restore_sessions()

    async def _restore_sessions(self) -> None:
        """Put every identity's session back as it was (a fuzzed logout or login rotates it)."""
        now = datetime.now(timezone.utc)
        for identity in self.identities:
            data = {CSRF_FIELD: identity.csrf}
            if identity.user_id is not None:
                data |= {"user_id": identity.user_id, "role": identity.role}
            row = {"data": {"session": data, "created": int(now.timestamp())}, "user_id": identity.user_id, "last_seen_at": now, "expires_at": now + timedelta(days=1)}
            updated = await Session.filter(key_hash=key_hash(identity.cookie)).update(**row)
            if not updated:
                await Session.create(key_hash=key_hash(identity.cookie), **row)

    def restore_sessions(self) -> None:
        self.call(self._restore_sessions())

    def fingerprint(self) -> dict[str, str]:
        """A digest of every watched table's rows: a refused request must leave it unchanged."""
        return self.call(self._fingerprint())

    async def _fingerprint(self) -> dict[str, str]:
        connection = Booking._meta.db
        if self.settings.database_url.startswith("sqlite"):
            rows = await connection.execute_query_dict("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            tables = [row["name"] for row in rows]
        else:
            rows = await connection.execute_query_dict("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            tables = [row["tablename"] for row in rows]
        digests = {}
        for table in sorted(set(tables) - UNWATCHED_TABLES):
            rows = await connection.execute_query_dict(WATCHED_QUERIES.get(table, f'SELECT * FROM "{table}"'))
            text = json.dumps(sorted(json.dumps(row, default=str, sort_keys=True) for row in rows))
            digests[table] = hashlib.sha256(text.encode()).hexdigest()
        return digests

    def cookie_header(self, identity: Identity) -> str:
        return f"{COOKIE_NAME}={identity.cookie}"
