"""Change events (services/events): fan-out in one process, announced at commit on both
databases, across processes through PostgreSQL LISTEN/NOTIFY, and resync after the
LISTEN connection drops."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.payments_data import NOW, TODAY, held_booking, operator, submitted_payment
from yatri.errors import Conflict
from yatri.keys import EventsKey, NotifierKey
from yatri.services import events, notify
from yatri.services.events import RESYNC, Events, PostgresListener, listener_dsn
from yatri.services.payments import verify_payment


async def next_event(subscription, timeout: float = 3.0) -> events.Event:
    return await asyncio.wait_for(anext(subscription), timeout)


async def nothing_arrives(subscription, within: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(subscription), within)


# ------------------------------------------------------------------ one process


async def test_only_subscribers_of_a_name_get_its_events_in_order():
    bus = Events()
    with bus.subscribe({"booking:YT-A", "payments"}) as mine, bus.subscribe({"booking:YT-B"}) as theirs:
        bus.deliver(["booking:YT-A", "dashboard", "payments"])
        assert [(await next_event(mine)).name, (await next_event(mine)).name] == ["booking:YT-A", "payments"]
        await nothing_arrives(theirs, 0.05)
    assert bus.subscribers == 0


async def test_a_subscriber_that_falls_behind_gets_one_resync():
    bus = Events(queue_limit=3)
    with bus.subscribe({"dashboard"}) as slow:
        for _ in range(4):
            bus.deliver(["dashboard"])
        assert (await next_event(slow)).name == RESYNC  # in place of the four
        await nothing_arrives(slow, 0.05)


async def test_last_event_id_replays_what_was_missed_or_says_refresh_everything():
    bus = Events(history=3)
    bus.deliver(["booking:YT-A"])
    seen = bus.last_id
    bus.deliver(["booking:YT-B", "booking:YT-A"])
    assert [e.name for e in bus.since(seen, {"booking:YT-A"})] == ["booking:YT-A"]
    assert bus.since(bus.last_id, {"booking:YT-A"}) == []
    assert bus.since("0badf00d-1", {"booking:YT-A"}) is None  # another process's id
    assert bus.since(f"{bus.process}-99", {"booking:YT-A"}) is None  # not one of ours yet
    assert bus.since(f"{bus.process}-x", {"booking:YT-A"}) is None
    for _ in range(4):
        bus.deliver(["dashboard"])
    assert bus.since(seen, {"booking:YT-A"}) is None  # older than the history kept


async def test_callbacks_get_their_events_and_resync_and_can_stop():
    bus = Events()
    got = []
    stop = bus.on({"catalogue"}, lambda event: got.append(event.name))
    bus.on({"catalogue"}, lambda event: 1 / 0)  # a broken listener does not stop the others
    bus.deliver(["catalogue", "dashboard"])
    bus.resync()
    stop()
    bus.deliver(["catalogue"])
    assert got == ["catalogue", RESYNC]


async def test_closing_the_bus_ends_every_subscription():
    bus = Events()
    with bus.subscribe({"dashboard"}) as subscription:
        waiting = asyncio.ensure_future(anext(subscription))
        await asyncio.sleep(0)
        bus.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 1)
    with bus.subscribe({"dashboard"}) as late, pytest.raises(StopAsyncIteration):  # subscribed after shutdown began
        await asyncio.wait_for(anext(late), 1)


def test_the_listener_connects_with_asyncpg_form_of_the_url():
    assert listener_dsn("postgres://postgres@127.0.0.1:5432/yatri?minsize=2") == "postgresql://postgres@127.0.0.1:5432/yatri"


# ------------------------------------------------------------------ both databases


async def test_an_event_goes_out_when_its_change_commits_and_never_on_rollback(client):
    bus = client.app[EventsKey]
    with events.publishing(bus), bus.subscribe({"booking:YT-TEST01"}) as subscription:
        with pytest.raises(Conflict):
            async with notify.change(None):
                await events.announce("booking:YT-TEST01")
                raise Conflict("refused")
        await nothing_arrives(subscription)
        async with notify.change(None):
            await events.announce("booking:YT-TEST01")
            await nothing_arrives(subscription)  # not committed yet
        assert (await next_event(subscription)).name == "booking:YT-TEST01"


async def test_verifying_a_payment_tells_the_booking_its_owner_the_queue_and_the_dashboard(client):
    booking = await held_booking()
    payment = await submitted_payment(booking, "401234567890")
    bus = client.app[EventsKey]
    names = {f"booking:{booking.reference}", f"traveller:{booking.user_id}", "payments", "dashboard",
             f"departure:{booking.departure_id}"}  # fmt: skip
    with events.publishing(bus), bus.subscribe(names) as subscription:
        await verify_payment(payment.id, actor=await operator(), now=NOW, today=TODAY, notifier=client.app[NotifierKey])
        got = {(await next_event(subscription)).name for _ in names}
    assert got == names


# ------------------------------------------------------------------ PostgreSQL: across processes


@pytest.fixture
async def listener(shared_database_url):
    """A second process's bus and LISTEN connection on the same database."""
    bus = Events()
    listener = PostgresListener(bus, listener_dsn(shared_database_url), keepalive=0.5, retry_max=0.5)
    await listener.start()
    yield listener
    await listener.stop()


async def test_a_change_on_one_process_reaches_another_at_commit(client, listener):
    with listener.bus.subscribe({"payments"}) as elsewhere, client.app[EventsKey].subscribe({"payments"}) as here:
        async with notify.change(None):
            await events.announce("payments")
            await nothing_arrives(elsewhere)
        assert (await next_event(elsewhere)).name == "payments"
        assert (await next_event(here)).name == "payments"  # this process hears its own NOTIFY too


async def test_a_dropped_listen_connection_reconnects_and_subscribers_resync(client, listener, shared_database_url):
    with listener.bus.subscribe({"dashboard"}) as subscription:
        pid = listener.connection.get_server_pid()
        admin = await asyncpg.connect(listener_dsn(shared_database_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        assert (await next_event(subscription, timeout=5)).name == RESYNC
        assert listener.connects == 2 and listener.connection.get_server_pid() != pid
        async with notify.change(None):
            await events.announce("dashboard")
        assert (await next_event(subscription)).name == "dashboard"
