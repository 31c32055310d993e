"""The read models the pages and the API both render (services/views.py): what may be
done with a booking now, and the one rule whether it may be paid."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from yatri.errors import Conflict
from yatri.models import Booking, BookingStatus
from yatri.services import payments, upi
from yatri.services.booking import cancel_booking
from yatri.services.views import booking_view, payment_view

from tests.api_helpers import bearer_for
from tests.booking_data import NOW, TODAY, hold, make_departure
from tests.helpers import app, clock, login, make_user  # noqa: F401 - fixtures


async def fetched(booking: Booking) -> Booking:
    return await Booking.get(id=booking.id).select_related("departure__trip", "user")


async def test_a_booking_may_be_paid_only_before_its_departure_day(client):
    booking = await fetched(await hold(await make_user(), await make_departure(days_ahead=1)))
    starts = booking.departure.starts_on
    assert payments.payable(booking, TODAY) and (await booking_view(booking, NOW, TODAY)).can_pay
    assert (await payment_view(booking, TODAY, "a@upi", "A")).payable
    with pytest.raises(Conflict, match="already started"):
        payments.check_payable(booking, starts)
    assert not (await booking_view(booking, NOW, starts)).can_pay
    assert not (await payment_view(booking, starts, "a@upi", "A")).payable
    # The hold is still live at NOW: only the date stops the payment, and nothing is saved.
    with pytest.raises(Conflict, match="already started"):
        await upi.submit_utr(booking.reference, "401234567890", user=booking.user, now=NOW, today=starts, verify_hours=48)
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD


async def test_the_booking_view_says_what_may_be_done_now(client):
    user = await make_user()
    booking = await fetched(await hold(user, await make_departure(days_ahead=40)))
    view = await booking_view(booking, NOW, TODAY)
    assert (view.can_pay, view.can_cancel, view.can_edit, view.status_label) == (True, True, True, "Seats held")
    assert view.refund_quote is not None and view.refund_quote.percent == 90
    assert [t.position for t in view.travellers] == [1, 2]

    await upi.submit_utr(booking.reference, "401234567890", user=user, now=NOW, today=TODAY, verify_hours=48)
    view = await booking_view(await fetched(booking), NOW, TODAY)
    assert (view.can_pay, view.can_cancel, view.can_edit, view.refund_quote) == (False, False, True, None)
    assert [p.utr for p in view.payments] == ["401234567890"]

    other = await fetched(await hold(user, await make_departure(days_ahead=40)))
    await cancel_booking(other.reference, actor=user, today=TODAY, now=NOW)
    view = await booking_view(await fetched(other), NOW, TODAY)
    assert (view.can_pay, view.can_cancel, view.can_edit) == (False, False, False)


async def test_the_pay_page_and_the_api_refuse_payment_once_the_departure_day_began(client, clock):
    user = await make_user()
    booking = await hold(user, await make_departure(days_ahead=1))
    starts = (await fetched(booking)).departure.starts_on
    clock.now = datetime.combine(starts - timedelta(days=1), time(19, 0), UTC)  # 00:30 in India on the day
    await login(client, user)
    page = await (await client.get(f"/bookings/{booking.reference}/pay")).text()
    assert 'class="utr-form"' not in page and "upi://pay" not in page
    assert f'href="/bookings/{booking.reference}/pay"' not in await (await client.get(f"/bookings/{booking.reference}")).text()
    body = await (await client.get(f"/api/v1/bookings/{booking.reference}/payment", headers=await bearer_for(client))).json()
    assert body["payable"] is False
