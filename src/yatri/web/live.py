"""Live updates: Server-Sent Event streams that say what changed (services/events).

A stream sends one named SSE event per change, `event: booking-changed` with the change's
name as data and an `id:`; htmx's hx-sse extension fires it as a DOM event on the
element that opened the stream, and the fragments listening for it GET their fresh
server-rendered state (the same fragment the full page includes). A stream never sends
page content, so what a stream may say is only that something changed.

Reconnects resync: the page's stream address carries `since` (this process's last event
id when the page was rendered) and the browser's reconnects send `Last-Event-ID`; events
missed since then are sent again, or, when this process cannot tell (another worker's id,
too old, or the LISTEN connection reconnected), every event the page listens for is sent
once, which refreshes all its fragments. Comment lines every HEARTBEAT_SECONDS keep
proxies from closing an idle stream. At shutdown (app on_shutdown) the events bus
closes, which ends every stream.

Who may listen: a booking's stream only its owner or an admin (403 for nobody signed in,
404 for anyone else, as the booking page); the traveller's list, the signed-in user;
the operator's stream, admins; seats left, anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from yatri.errors import PermissionDenied
from yatri.keys import EventsKey, MetricsKey
from yatri.parsing import record_id
from yatri.services.booking import booking_for
from yatri.services.events import RESYNC, Event
from yatri.web.auth import current_user

log = logging.getLogger("yatri.live")

HEARTBEAT_SECONDS = 15
# Seats left of at most this many departures per trip page stream.
MAX_DEPARTURES = 50


def _signed_in(request: web.Request):
    user = current_user(request)
    if user is None:
        raise PermissionDenied("Log in to follow this page live.")
    return user


async def booking_stream(request: web.Request) -> web.StreamResponse:
    """The booking page and its pay page: the booking's state and payments."""
    booking = await booking_for(_signed_in(request), request.match_info["ref"])
    return await stream(request, {f"booking:{booking.reference}": "booking-changed"})


async def bookings_stream(request: web.Request) -> web.StreamResponse:
    """My bookings: any of the signed-in traveller's bookings."""
    return await stream(request, {f"traveller:{_signed_in(request).id}": "bookings-changed"})


async def admin_stream(request: web.Request) -> web.StreamResponse:
    """The operator's payment queue and dashboard."""
    if not _signed_in(request).is_admin:
        raise PermissionDenied("Only the operator's staff can follow this.")
    return await stream(request, {"payments": "payments-changed", "dashboard": "dashboard-changed"})


async def seats_stream(request: web.Request) -> web.StreamResponse:
    """A trip page: seats left on its departures (`d` names each), or any catalogue change."""
    ids = dict.fromkeys(record_id(raw, "departure") for raw in request.query.getall("d", [])[:MAX_DEPARTURES])
    names = {f"departure:{departure_id}": "seats-changed" for departure_id in ids}
    return await stream(request, {**names, "catalogue": "seats-changed"})


async def stream(request: web.Request, names: dict[str, str]) -> web.StreamResponse:
    """Stream the events of `names` (event name -> the DOM event the page listens for)
    until the browser leaves or the server shuts down."""
    bus = request.app[EventsKey]
    gauge = request.app[MetricsKey].streams
    last = request.headers.get("Last-Event-ID") or request.query.get("since", "")
    with bus.subscribe(names) as subscription:
        async with sse_response(request, ping_interval=HEARTBEAT_SECONDS) as response:
            gauge.inc()
            try:
                await _catch_up(response, bus.since(last, names) if last else [], names, bus.last_id)
                await _until_gone(response, _forward(response, subscription, names))
            except ConnectionResetError:  # the browser went away mid-write
                pass
            finally:
                gauge.dec()
    return response


async def _catch_up(response: EventSourceResponse, missed: list[Event] | None, names: dict[str, str], last_id: str) -> None:
    if missed is None:  # cannot tell what was missed: refresh everything
        await _refresh_all(response, names, last_id)
    for event in missed or ():
        await response.send(event.name, id=event.id, event=names[event.name])


async def _refresh_all(response: EventSourceResponse, names: dict[str, str], event_id: str) -> None:
    for dom_event, name in {dom_event: name for name, dom_event in names.items()}.items():
        await response.send(name, id=event_id, event=dom_event)


async def _forward(response: EventSourceResponse, subscription, names: dict[str, str]) -> None:
    async for event in subscription:
        if event.name == RESYNC:
            await _refresh_all(response, names, event.id)
        else:
            await response.send(event.name, id=event.id, event=names[event.name])


async def _until_gone(response: EventSourceResponse, forwarding) -> None:
    """Forward events until the bus closes, or until the heartbeat finds the browser gone
    (aiohttp does not cancel a handler whose client left)."""
    forward = asyncio.ensure_future(forwarding)
    heartbeat = asyncio.ensure_future(response.wait())
    try:
        await asyncio.wait({forward, heartbeat}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (forward, heartbeat):
            task.cancel()
        for task in (forward, heartbeat):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if forward.done() and not forward.cancelled() and forward.exception() is not None:
        raise forward.exception()


def add_live_routes(app: web.Application) -> None:
    app.router.add_get("/live/bookings", bookings_stream, name="live_bookings")
    app.router.add_get("/live/bookings/{ref}", booking_stream, name="live_booking")
    app.router.add_get("/live/admin", admin_stream, name="live_admin")
    app.router.add_get("/live/seats", seats_stream, name="live_seats")
