"""The waiting list over HTTP on both databases: a traveller joins a full departure from
the trip page, another cancels, the first sees and is mailed the offer, books it in time;
the operator sees the line and sets how long offers hold their seats."""

from __future__ import annotations

import re

from yatri.keys import NotifierKey
from yatri.models import Departure, Role, WaitlistEntry, WaitlistStatus
from yatri.services import booking as bookings
from yatri.services import waitlist

from tests.booking_data import COMPANION_FORM, LEAD_FORM, form_for, hold, make_departure
from tests.helpers import app, clock, csrf_in, login, make_user  # noqa: F401 (fixtures)

_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


async def test_a_traveller_joins_gets_the_freed_seats_and_books_them_in_time(client, app, clock, smtp_outbox):
    departure = await make_departure(capacity=2)
    ravi = await make_user("ravi@example.com", name="Ravi")
    ravis = await hold(ravi, departure, 2, now=clock.now)
    asha = await make_user("asha.w@example.com", name="Asha")
    await login(client, asha)

    trip_page = await (await client.get(f"/trips/{departure.trip.slug}")).text()
    assert f'href="/departures/{departure.id}/waitlist"' in trip_page
    page = await client.get(f"/departures/{departure.id}/waitlist")
    csrf = csrf_in(await page.text())
    refused = await client.post(f"/departures/{departure.id}/waitlist", data={"csrf_token": csrf, "party_size": "２"})
    assert refused.status == 422
    assert 'id="f-party-error"' in (text := await refused.text()) and "Choose from 1 to" in text
    joined = await client.post(f"/departures/{departure.id}/waitlist", data={"csrf_token": csrf, "party_size": "2"}, allow_redirects=False)
    assert joined.status == 303
    assert "number 1</strong> in line" in await (await client.get(f"/departures/{departure.id}/waitlist")).text()

    await bookings.cancel_booking(ravis.reference, actor=ravi, today=clock.now.date(), now=clock.now, notifier=app[NotifierKey])
    [offer_mail] = [m for m in await smtp_outbox.wait_for(2) if m["To"] == "asha.w@example.com"]
    assert f"/departures/{departure.id}/waitlist" in offer_mail.get_content()
    offered = await (await client.get(f"/departures/{departure.id}/waitlist")).text()
    until = re.search(r"held for you</strong> until ([^.]+)\.", offered).group(1)
    clock.move(hours=3)
    again = await (await client.get(f"/departures/{departure.id}/waitlist")).text()
    assert f"until {until}." in again  # reading the page again never restarts the hold
    assert "seats held for you until" in await (await client.get("/bookings")).text()

    data = {"csrf_token": csrf, "count": "2", **form_for([LEAD_FORM, COMPANION_FORM])}
    review = await client.post(f"/departures/{departure.id}/book/review", data=data)
    assert review.status == 200, await review.text()
    key = _KEY.search(await review.text()).group(1)
    booked = await client.post(f"/departures/{departure.id}/book", data={**data, "idempotency_key": key}, allow_redirects=False)
    assert booked.status == 303 and booked.headers["Location"].startswith("/bookings/YT-")
    entry = await WaitlistEntry.get(user_id=asha.id)
    assert entry.status == WaitlistStatus.BOOKED and entry.booking_id is not None


async def test_the_operator_sees_the_line_and_sets_the_offer_time(client, clock):
    departure = await make_departure(capacity=1)
    await hold(await make_user("ravi@example.com"), departure, 1, now=clock.now)
    asha = await make_user("asha.w@example.com", name="Asha Waiting")
    await waitlist.join(asha, departure.id, 1, now=clock.now, today=clock.now.date())

    operator = client
    admin_csrf = await login(operator, await make_user("ops@example.com", role=Role.ADMIN))
    page = await (await operator.get(f"/admin/departures/{departure.id}")).text()
    assert "Asha Waiting" in page and "On the waiting list" in page
    bad = await operator.post(f"/admin/departures/{departure.id}/offer-hours", data={"csrf_token": admin_csrf, "offer_hours": "9999"})
    assert bad.status == 422 and 'id="f-offer-hours-error"' in await bad.text()
    good = await operator.post(f"/admin/departures/{departure.id}/offer-hours", data={"csrf_token": admin_csrf, "offer_hours": "6"}, allow_redirects=False)
    assert good.status == 303
    assert (await Departure.get(id=departure.id)).offer_hours == 6
