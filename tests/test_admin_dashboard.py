"""The /admin dashboard: payments waiting, the next week's departures, bookings and revenue."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from yatri.keys import ClockKey
from yatri.models import BookingStatus, Payment, PaymentMethod, PaymentStatus, Role
from yatri.services.admin_ops import dashboard

from tests.admin_data import make_booking, make_departure, make_trip
from tests.helpers import login, make_user

INDIA = ZoneInfo("Asia/Kolkata")
# 20:00 UTC is 01:30 the next day in India: "today" is the operator's day.
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)
TODAY = NOW.astimezone(INDIA).date()


@pytest.fixture
def app(app):
    app[ClockKey] = lambda: NOW
    return app


async def scenario():
    trip = await make_trip()
    user = await make_user()
    soon = await make_departure(trip, TODAY + timedelta(days=3), capacity=10)
    await make_departure(trip, TODAY + timedelta(days=8), capacity=10)  # beyond the week
    await make_departure(trip, TODAY + timedelta(days=2), capacity=10, cancelled_at=NOW)  # cancelled
    in_india_today = NOW - timedelta(minutes=30)  # 19:30 UTC: 01:00 today in India
    await make_booking(soon, user, 2, total_paise=500_000, created_at=in_india_today)
    await make_booking(soon, user, 1, total_paise=250_000, created_at=NOW - timedelta(days=10))
    await make_booking(soon, user, 1, total_paise=999_999, created_at=NOW - timedelta(days=31))  # too old
    await make_booking(soon, user, 1, BookingStatus.CANCELLED, total_paise=70_000, created_at=in_india_today)
    held = await make_booking(soon, user, 3, BookingStatus.PAYMENT_SUBMITTED, hold_expires_at=NOW + timedelta(hours=1))
    await Payment.create(booking=held, method=PaymentMethod.UPI_QR, amount_paise=1, status=PaymentStatus.SUBMITTED)
    await Payment.create(booking=held, method=PaymentMethod.UPI_QR, amount_paise=1, status=PaymentStatus.REJECTED)
    return soon


async def test_dashboard_numbers(client):
    soon = await scenario()
    data = await dashboard(NOW, INDIA)
    assert data.today == TODAY
    assert data.payments_waiting == 1
    assert [(row.departure.id, row.taken, row.left) for row in data.upcoming] == [(soon.id, 2 + 1 + 1 + 3, 3)]
    assert (data.bookings_today, data.revenue_today_paise) == (1, 500_000)
    assert (data.bookings_30d, data.revenue_30d_paise) == (2, 750_000)
    assert len(data.revenue_by_day) == 30 and data.revenue_by_day[-1] == (TODAY, 500_000)
    assert dict(data.revenue_by_day)[TODAY - timedelta(days=10)] == 250_000


async def test_dashboard_page_shows_the_numbers_and_an_accessible_chart(client):
    await scenario()
    await login(client, await make_user("admin@example.com", role=Role.ADMIN))
    html = await (await client.get("/admin")).text()
    assert '<p class="stat-value" id="payments-waiting">1</p>' in html
    assert '<span id="revenue-30d">₹7,500</span>' in html
    assert '<span id="revenue-today">₹5,000</span>' in html
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in html
    assert html.count("<rect ") == 30
    assert "<title>26 Nov: ₹5,000</title>" in html
    assert 'href="/admin" aria-current="page"' in html  # the layout marks the section
    for label in ("Trips", "Destinations", "Departures", "Bookings", "Payments", "Users", "Audit log"):
        assert f">{label}</a>" in html
