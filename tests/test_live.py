"""Live-update streams (web/live.py): who may listen, what a stream says when a change
commits, Last-Event-ID and catch-up, heartbeats, the open-streams gauge, shutdown."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.helpers import login, make_user
from tests.payments_data import NOW, TODAY, held_booking, operator, submitted_payment
from yatri.app import create_app
from yatri.keys import DatabaseKey, EventsKey, NotifierKey
from yatri.models import Role
from yatri.services import events, notify
from yatri.services.payments import verify_payment
from yatri.web import live

SSE = {"Accept": "text/html, text/event-stream", "HX-Request": "true"}


async def read_event(response, timeout: float = 3.0) -> dict[str, str]:
    """The next event (not a comment) on an open stream: its fields."""
    fields: dict[str, str] = {}
    async with asyncio.timeout(timeout):
        while True:
            line = (await response.content.readline()).decode().rstrip("\r\n")
            if not line:
                if fields:
                    return fields
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value


async def nothing_within(response, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await read_event(response, seconds)


async def announce(app, *names: str) -> None:
    with events.publishing(app[EventsKey]):
        async with notify.change(None):
            await events.announce(*names)


# ---------------------------------------------------------------- who may listen


async def test_only_the_owner_or_an_admin_may_follow_a_booking(client):
    booking = await held_booking()
    url = f"/live/bookings/{booking.reference}"
    assert (await client.get(url, headers=SSE)).status == 403  # nobody signed in
    await login(client, await make_user("other@example.com"))
    assert (await client.get(url, headers=SSE)).status == 404  # as the booking page: not found
    assert (await client.get("/live/admin", headers=SSE)).status == 403
    await login(client, booking.user)
    response = await client.get(url, headers=SSE)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["X-Accel-Buffering"] == "no" and response.headers["Cache-Control"] == "no-cache"
    response.close()
    await login(client, await make_user("ops@example.com", role=Role.ADMIN))
    for path in (url, "/live/admin"):
        response = await client.get(path, headers=SSE)
        assert response.status == 200, path
        response.close()


async def test_the_bookings_list_stream_is_for_a_signed_in_traveller_and_seats_for_anyone(client):
    assert (await client.get("/live/bookings", headers=SSE)).status == 403
    assert (await client.get("/live/seats?d=abc", headers=SSE)).status == 404
    response = await client.get("/live/seats?d=1&d=2", headers=SSE)
    assert response.status == 200
    await announce(client.app, "departure:2")
    event = await read_event(response)
    assert event["event"] == "seats-changed" and event["data"] == "departure:2"
    response.close()


# ---------------------------------------------------------------- what a stream says


async def test_a_verified_payment_reaches_the_owners_booking_stream_and_the_operators(client, aiohttp_client):
    booking = await held_booking()
    payment = await submitted_payment(booking, "401234567890")
    await login(client, booking.user)
    traveller = await client.get(f"/live/bookings/{booking.reference}", headers=SSE)
    ops_client = await aiohttp_client(client.server)
    admin = await operator()
    await login(ops_client, admin)
    queue = await ops_client.get("/live/admin", headers=SSE)
    with events.publishing(client.app[EventsKey]):
        await verify_payment(payment.id, actor=admin, now=NOW, today=TODAY, notifier=client.app[NotifierKey])
    event = await read_event(traveller)
    assert event["event"] == "booking-changed" and event["data"] == f"booking:{booking.reference}"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9]+", event["id"])
    got = {(await read_event(queue))["event"] for _ in range(2)}
    assert got == {"payments-changed", "dashboard-changed"}
    await nothing_within(traveller)  # only its own booking's events
    traveller.close()
    queue.close()


async def test_a_reconnect_gets_what_it_missed_or_a_refresh_of_everything(client):
    booking = await held_booking()
    await login(client, booking.user)
    url = f"/live/bookings/{booking.reference}"
    first = await client.get(url, headers=SSE)
    await announce(client.app, f"booking:{booking.reference}")
    seen = (await read_event(first))["id"]
    first.close()
    await announce(client.app, f"booking:{booking.reference}")  # while it was away
    again = await client.get(url, headers={**SSE, "Last-Event-ID": seen})
    missed = await read_event(again)
    assert missed["event"] == "booking-changed" and missed["id"] != seen
    await nothing_within(again)
    again.close()
    # The page's own `since`, from another process (or too old): refresh everything once.
    elsewhere = await client.get(f"{url}?since=0badf00d-7", headers=SSE)
    assert (await read_event(elsewhere))["event"] == "booking-changed"
    elsewhere.close()
    # A page rendered just now, nothing since: nothing to catch up.
    page = await (await client.get(f"/bookings/{booking.reference}")).text()
    stream_url = re.search(r'hx-sse:connect="([^"]+)"', page).group(1)
    assert stream_url.startswith(f"{url}?since=")
    fresh = await client.get(stream_url, headers=SSE)
    await nothing_within(fresh)
    fresh.close()


async def test_a_resync_refreshes_every_fragment_of_the_page(client):
    await login(client, await make_user("ops@example.com", role=Role.ADMIN))
    response = await client.get("/live/admin", headers=SSE)
    await asyncio.sleep(0.1)
    client.app[EventsKey].resync()
    got = {(await read_event(response))["event"] for _ in range(2)}
    assert got == {"payments-changed", "dashboard-changed"}
    response.close()


# ---------------------------------------------------------------- heartbeats, gauge, shutdown


async def test_an_idle_stream_gets_heartbeats_and_counts_as_open(client, monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)
    response = await client.get("/live/seats?d=1", headers=SSE)
    async with asyncio.timeout(3):
        line = await response.content.readline()
        while not line.strip():
            line = await response.content.readline()
    assert line.startswith(b": ping")
    metrics = await (await client.get("/metrics")).text()
    assert "yatri_sse_connections 1.0" in metrics
    response.close()
    await asyncio.sleep(0.6)  # the next heartbeat finds the browser gone
    assert client.app[EventsKey].subscriptions == 0
    assert "yatri_sse_connections 0.0" in await (await client.get("/metrics")).text()


async def test_shutdown_ends_open_streams_at_once(settings):
    app = create_app(settings)
    client = TestClient(TestServer(app))
    await client.start_server()
    response = await client.get("/live/seats?d=1", headers=SSE)
    assert response.status == 200
    started = asyncio.get_running_loop().time()
    with app[DatabaseKey]:
        await client.close()  # runs on_shutdown (the bus closes), then the cleanup
    assert asyncio.get_running_loop().time() - started < 5
    assert app[EventsKey].closed and app[EventsKey].subscriptions == 0
