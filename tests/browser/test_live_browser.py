"""In Chromium, two `yatri serve` processes on one PostgreSQL database: a traveller's page
open on worker A changes by itself, within 2 s and without a reload, when the operator acts
on worker B (verify, reject), when a hold expires elsewhere, and the operator's queue on B
shows a UTR the traveller sends on A (services/events through LISTEN/NOTIFY, web/live.py,
htmx's hx-sse)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.booking_data import lead, make_departure
from tests.browser.test_payment_browser import log_in
from tests.helpers import make_user
from tests.live import LiveServer
from yatri.db import open_database
from yatri.models import Role, User
from yatri.services.booking import expire_lapsed_holds, hold_seats
from yatri.services.upi import submit_utr
from yatri.settings import Settings

LIVE = 2000  # ms: how soon the other worker's change shows


@pytest.fixture
def workers(shared_database_url, tmp_path):
    with LiveServer(shared_database_url, tmp_path / "a") as a, LiveServer(shared_database_url, tmp_path / "b") as b:
        yield a, b


@pytest.fixture
async def data(shared_database_url):
    """The database as a third process sees it: to seed rows and to act (an expiry job)."""
    ctx = await open_database(Settings(database_url=shared_database_url))
    with ctx:
        yield
    await ctx.close_connections()


async def booking_waiting_for_check(utr: str | None = "401234567890"):
    departure = await make_departure(capacity=8, price_rupees=9_950)
    asha = await user_named("asha@example.com", "Asha Rao")
    await user_named("ops@example.com", "Priya Ops", Role.ADMIN)
    now = datetime.now(UTC)
    booking = await hold_seats(
        asha, departure.id, [lead()], idempotency_key=None, now=now, today=now.date(), hold_minutes=15
    )
    if utr:
        await submit_utr(booking.reference, utr, user=asha, now=now, today=now.date(), verify_hours=48)
    return booking


async def user_named(email: str, name: str, role: Role = Role.TRAVELLER) -> User:
    return await User.get_or_none(email=email) or await make_user(email, name=name, role=role)


async def open_pages(browser, phone, a, b, reference: str, ops_path: str = "/admin/payments"):
    """The traveller's booking page on A (a 360 px phone), the operator's page on B."""
    await log_in(phone, lambda path: a.url + path, "asha@example.com", f"/bookings/{reference}")
    await phone.evaluate("window.notReloaded = true")
    operator = await browser.new_context(viewport={"width": 1280, "height": 900})
    ops = await operator.new_page()
    await log_in(ops, lambda path: b.url + path, "ops@example.com", ops_path)
    return operator, ops


async def stream_open(page) -> None:
    """Wait until the page's live stream is connected (hx-sse's after:connection)."""
    await page.wait_for_function(
        "() => { const s = document.querySelector('[hx-sse\\\\:connect]'); return s && s._htmx && s._htmx.sse }", timeout=10_000
    )


async def test_a_payment_verified_on_worker_b_confirms_the_page_open_on_worker_a(workers, data, browser, phone):
    a, b = workers
    booking = await booking_waiting_for_check()
    operator, ops = await open_pages(browser, phone, a, b, booking.reference)
    await expect(phone.locator(".booking-status")).to_contain_text("Payment being checked")
    await stream_open(phone)
    await ops.locator("tr", has_text=booking.reference).locator("button:has-text('Verify')").click()
    await expect(phone.locator(".booking-status")).to_contain_text("Confirmed", timeout=LIVE)
    await expect(phone.locator("#booking-payment")).to_contain_text("Paid and confirmed", timeout=LIVE)
    assert await phone.evaluate("window.notReloaded") is True
    await operator.close()
    assert phone.problems == []


async def test_a_payment_rejected_on_worker_b_shows_on_worker_a(workers, data, browser, phone):
    a, b = workers
    booking = await booking_waiting_for_check()
    operator, ops = await open_pages(browser, phone, a, b, booking.reference)
    await stream_open(phone)
    row = ops.locator("tr", has_text=booking.reference)
    await row.locator("input[name=reason]").fill("No credit with this UTR")
    await row.locator("button:has-text('Reject')").click()
    await expect(phone.locator(".booking-status")).to_contain_text("Waiting for payment", timeout=LIVE)
    await expect(phone.locator("#booking-payment")).to_contain_text("No credit with this UTR", timeout=LIVE)
    assert await phone.evaluate("window.notReloaded") is True
    await operator.close()
    assert phone.problems == []


async def test_a_hold_expired_by_another_process_shows_at_once(workers, data, browser, phone):
    a, b = workers
    booking = await booking_waiting_for_check(utr=None)
    operator, _ = await open_pages(browser, phone, a, b, booking.reference)
    await operator.close()
    await expect(phone.locator(".booking-status")).to_contain_text("Seats held")
    await stream_open(phone)
    # The hold job of some process runs with the hold lapsed (here: this test's process).
    [expired] = await expire_lapsed_holds(datetime.now(UTC) + timedelta(minutes=16))
    assert expired.reference == booking.reference
    await expect(phone.locator(".booking-status")).to_contain_text("Hold expired", timeout=LIVE)
    assert await phone.evaluate("window.notReloaded") is True
    assert phone.problems == []


async def test_the_queue_open_on_worker_b_gets_a_utr_sent_on_worker_a(workers, data, browser, phone):
    a, b = workers
    booking = await booking_waiting_for_check(utr=None)
    operator, ops = await open_pages(browser, phone, a, b, booking.reference)
    await expect(ops.locator("#queue-empty")).to_be_visible()
    await ops.evaluate("window.notReloaded = true")
    await stream_open(ops)
    await phone.goto(f"{a.url}/bookings/{booking.reference}/pay")
    await phone.fill("#f-utr", "4012 3456 7890")
    await phone.click(".utr-form button[type=submit]")
    await phone.wait_for_url(f"**/bookings/{booking.reference}")
    row = ops.locator("#payment-queue tr", has_text=booking.reference)
    await expect(row).to_contain_text("401234567890", timeout=LIVE)
    await expect(ops.locator("#queue-heading")).to_contain_text("(1)")
    assert await ops.evaluate("window.notReloaded") is True
    await operator.close()
    assert phone.problems == []
