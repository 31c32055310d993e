"""The booking pages over HTTP on both databases: the whole flow, bad input kept, sold
out, double submission, my bookings, ownership, traveller edits and cancellation."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from yatri.app import create_app
from yatri.keys import ClockKey, DatabaseKey
from yatri.models import AuditLog, Booking, BookingStatus, Payment, PaymentMethod, PaymentStatus, Refund, Traveller
from yatri.services import booking as service

from tests.booking_data import COMPANION_FORM, LEAD_FORM, NOW, TODAY, form_for, hold as hold_at, make_departure
from tests.helpers import csrf_in, login, make_user

_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


async def hold(*args, **kwargs):
    """A hold made now: the pages below read the real clock (a slow run outlasts NOW + 15 min)."""
    return await hold_at(*args, now=datetime.now(UTC), **kwargs)


def confirm_form(review_html: str) -> dict[str, str]:
    """What the review page's Confirm button posts: its own hidden fields."""
    form = review_html[review_html.index('action="/departures/'):]
    return dict(_HIDDEN.findall(form[: form.index("</form>")]))


async def review_page(client, departure, csrf, travellers=(LEAD_FORM, COMPANION_FORM)):
    data = {"csrf_token": csrf, "count": str(len(travellers)), **form_for(list(travellers))}
    return await client.post(f"/departures/{departure.id}/book/review", data=data), data


async def confirm(client, departure, data, key):
    return await client.post(f"/departures/{departure.id}/book", data={**data, "idempotency_key": key}, allow_redirects=False)


async def test_book_two_travellers_review_the_price_and_hold_the_seats(client, smtp_outbox):
    user = await make_user()
    departure = await make_departure(capacity=10, price_rupees=12_000)
    csrf = await login(client, user)
    page = await client.get(f"/departures/{departure.id}/book?count=2")
    html = await page.text()
    assert page.status == 200
    assert 'name="t2-full_name"' in html and 'name="t3-full_name"' not in html
    assert 'value="Asha Rao"' in html  # the lead is prefilled from the account
    review, data = await review_page(client, departure, csrf)
    html = await review.text()
    assert review.status == 200
    assert "₹24,000" in html and "₹1,200" in html and "₹25,200" in html  # subtotal, GST 5%, total
    posted = confirm_form(html)
    assert posted["csrf_token"] == csrf and posted["t2-full_name"] == "Meera Iyer" and posted["idempotency_key"]
    response = await client.post(f"/departures/{departure.id}/book", data=posted, allow_redirects=False)
    assert response.status == 303
    booking = await Booking.get(user=user)
    assert response.headers["Location"] == f"/bookings/{booking.reference}"
    assert (booking.status, booking.seats, booking.total_paise) == (BookingStatus.HELD, 2, 2_520_000)
    assert await Traveller.filter(booking=booking).count() == 2
    detail = await (await client.get(response.headers["Location"])).text()
    assert "Seats held" in detail and "data-countdown" in detail and "Meera Iyer" in detail
    [mail] = await smtp_outbox.wait_for(1)
    assert mail["Subject"] == f"Seats held: {booking.reference}" and mail["To"] == "asha@example.com"
    assert f"/bookings/{booking.reference}/pay" in mail.get_content()


async def test_bad_details_come_back_with_every_value_and_a_message_per_field(client):
    user = await make_user()
    departure = await make_departure()
    csrf = await login(client, user)
    bad = {**LEAD_FORM, "age": "-3", "email": "asha-at-example", "phone": "call me"}
    response, _ = await review_page(client, departure, csrf, [bad, {**COMPANION_FORM, "full_name": ""}])
    html = await response.text()
    assert response.status == 422
    assert "Enter the age in whole years" in html and "Enter an email address" in html
    assert "Enter a mobile number" in html and "Enter the traveller&#39;s full name" in html
    assert 'value="asha-at-example"' in html and 'value="call me"' in html and 'value="Ravi Rao"' in html
    assert await Booking.all().count() == 0


async def test_a_double_tap_on_confirm_makes_one_booking_and_one_mail(client, smtp_outbox):
    user = await make_user()
    departure = await make_departure()
    csrf = await login(client, user)
    review, data = await review_page(client, departure, csrf)
    key = _KEY.search(await review.text()).group(1)
    first, second = await asyncio.gather(confirm(client, departure, data, key), confirm(client, departure, data, key))
    assert first.status == second.status == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert await Booking.all().count() == 1
    await smtp_outbox.wait_for(1)
    await asyncio.sleep(0.3)  # a second mail would have arrived by now
    assert len(smtp_outbox) == 1


async def test_sold_out_meanwhile_brings_the_form_back_with_the_seats_left(client):
    user = await make_user()
    departure = await make_departure(capacity=3)
    csrf = await login(client, user)
    review, data = await review_page(client, departure, csrf)
    await hold(await make_user("other@example.com"), departure, 2)  # someone else was faster
    response = await confirm(client, departure, data, _KEY.search(await review.text()).group(1))
    html = await response.text()
    assert response.status == 409
    assert "Only 1 seat is left" in html and 'value="Meera Iyer"' in html
    assert await Booking.filter(user=user).count() == 0


async def test_past_and_unpublished_departures_cannot_be_booked(client):
    user = await make_user()
    await login(client, user)
    past = await client.get(f"/departures/{(await make_departure(days_ahead=-1)).id}/book")
    assert past.status == 409 and "already started" in await past.text()
    hidden = await client.get(f"/departures/{(await make_departure(is_published=False)).id}/book")
    assert hidden.status == 404


async def test_booking_needs_login(client):
    departure = await make_departure()
    response = await client.get(f"/departures/{departure.id}/book?count=2", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login?next=/departures/")


async def test_my_bookings_lists_upcoming_and_cancelled(client):
    user = await make_user()
    upcoming = await hold(user, await make_departure())
    gone = await hold(user, await make_departure(days_ahead=50))
    await service.cancel_booking(gone.reference, actor=user, today=TODAY, now=NOW)
    await hold(await make_user("ravi@example.com"), await make_departure())  # not mine
    await login(client, user)
    html = await (await client.get("/bookings")).text()
    upcoming_part, _, ended_part = html.partition("Cancelled and expired")
    assert upcoming.reference in upcoming_part and gone.reference in ended_part
    assert html.count("/bookings/YT-") == 2


async def test_another_users_booking_is_404_and_an_admin_sees_it(client):
    booking = await hold(await make_user(), await make_departure())
    await login(client, await make_user("ravi@example.com"))
    for path in ("", "/travellers", "/cancel"):
        assert (await client.get(f"/bookings/{booking.reference}{path}")).status == 404
    client.session.cookie_jar.clear()
    await login(client, await make_user("ops@example.com", role="admin"))
    assert (await client.get(f"/bookings/{booking.reference}")).status == 200


async def test_a_stale_traveller_edit_shows_both_versions_and_keeps_mine(client):
    user = await make_user()
    booking = await hold(user, await make_departure())
    await login(client, user)
    page = await (await client.get(f"/bookings/{booking.reference}/travellers")).text()
    csrf = csrf_in(page)
    mine = {"csrf_token": csrf, "version": str(booking.version), **form_for([LEAD_FORM, {**COMPANION_FORM, "full_name": "Meera Menon"}])}
    theirs = {**mine, **form_for([LEAD_FORM, {**COMPANION_FORM, "full_name": "Meera Nair"}])}
    assert (await client.post(f"/bookings/{booking.reference}/travellers", data=theirs, allow_redirects=False)).status == 303
    stale = await client.post(f"/bookings/{booking.reference}/travellers", data=mine)
    html = await stale.text()
    assert stale.status == 409
    assert "changed by someone else" in html
    assert "Meera Nair" in html and 'value="Meera Menon"' in html
    new_version = re.search(r'name="version" value="(\d+)"', html).group(1)
    again = await client.post(f"/bookings/{booking.reference}/travellers", data={**mine, "version": new_version}, allow_redirects=False)
    assert again.status == 303
    assert await Traveller.filter(booking=booking, position=2).values_list("full_name", flat=True) == ["Meera Menon"]


async def test_cancel_shows_the_refund_first_then_cancels(client, smtp_outbox):
    user = await make_user()
    admin = await make_user("ops@example.com", role="admin")
    booking = await hold(user, await make_departure(days_ahead=20))
    await Payment.create(booking=booking, method=PaymentMethod.UPI_QR, amount_paise=booking.total_paise, status=PaymentStatus.VERIFIED)
    await service.confirm_booking(booking.reference, actor=admin, now=NOW)
    await login(client, user)
    screen = await client.get(f"/bookings/{booking.reference}/cancel")
    html = await screen.text()
    assert "you get back <strong>₹12,600</strong> (50%)" in html  # 20 days before: the 50 % tier of ₹25,200
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CONFIRMED  # looking changes nothing
    form = html[html.index(f'action="/bookings/{booking.reference}/cancel"'):]
    response = await client.post(f"/bookings/{booking.reference}/cancel", data=dict(_HIDDEN.findall(form[: form.index("</form>")])), allow_redirects=False)
    assert response.status == 303
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CANCELLED
    assert await Refund.filter(booking=booking).values_list("amount_paise", flat=True) == [1_260_000]
    [mail] = await smtp_outbox.wait_for(1)
    assert "₹12,600" in mail.get_content()
    page = await (await client.get(f"/bookings/{booking.reference}")).text()
    assert "Cancelled" in page and "refund ₹12,600" in page


async def test_the_server_expires_lapsed_holds_in_the_background(aiohttp_client, settings, smtp_outbox):
    """A server started after a hold lapsed expires it by itself (the periodic job, here
    every 0.2 s) and mails the traveller."""
    settings = replace(settings, expire_holds_every_seconds=0.2)
    first = create_app(settings)
    client = await aiohttp_client(first)
    with first[DatabaseKey]:
        booking = await hold(await make_user(), await make_departure())
    await client.close()

    later = create_app(settings)
    expired_at = datetime.now(UTC) + timedelta(minutes=16)
    later[ClockKey] = lambda: expired_at
    await aiohttp_client(later)  # starts the background task
    with later[DatabaseKey]:
        for _ in range(100):
            if (await Booking.get(id=booking.id)).status == BookingStatus.EXPIRED:
                break
            await asyncio.sleep(0.05)
        assert (await Booking.get(id=booking.id)).status == BookingStatus.EXPIRED
        row = await AuditLog.get(entity="booking", entity_id=booking.reference, action="expired")
        assert (row.from_state, row.actor_id) == ("held", None)
    [mail] = await smtp_outbox.wait_for(1)
    assert mail["Subject"] == f"Hold expired: {booking.reference}"
    assert "back on sale" in mail.get_content()


async def test_an_expired_hold_can_still_be_paid_from_its_page(client):
    user = await make_user()
    booking = await hold(user, await make_departure())
    await service.expire_lapsed_holds(booking.hold_expires_at + timedelta(seconds=1))
    await login(client, user)
    html = await (await client.get(f"/bookings/{booking.reference}")).text()
    assert "Hold expired" in html and "no longer reserved" in html
    assert f'href="/bookings/{booking.reference}/pay"' in html
    assert "Cancel this booking" not in html


async def test_ids_too_big_for_the_database_are_404_not_500(client):
    await login(client, await make_user("ops@example.com", role="admin"))
    for path in ("/departures/99999999999/book", "/admin/trips/99999999999", "/admin/departures/99999999999"):
        assert (await client.get(path)).status == 404, path


async def test_htmx_gets_the_booking_state_alone_and_a_lapsed_hold_says_so(client):
    """What the countdown asks for at zero (and a live event): the state fragment, expired
    before the background task has run, with what can still be done."""
    user = await make_user()
    booking = await hold_at(user, await make_departure(), now=datetime.now(UTC) - timedelta(minutes=16))
    await login(client, user)
    live = await (await client.get(f"/bookings/{booking.reference}", headers={"HX-Request": "true"})).text()
    assert live.startswith('<div id="booking-status"') and "<html" not in live and "History" not in live
    assert "Hold expired" in live and "Seats held" not in live and "the hold has lapsed" in live
    assert "no longer reserved" in live and f'href="/bookings/{booking.reference}/pay"' in live
    page = await (await client.get(f"/bookings/{booking.reference}")).text()
    status, _, payment = live.partition('<section class="booking-payment"')
    assert status.strip() in page  # the page includes the same fragment
    # and the payment section, which htmx swaps out of band (a live event: paid, verified)
    assert ' hx-swap-oob="true"' in payment and "Not paid yet" in payment
    assert ('<section class="booking-payment"' + payment.replace(' hx-swap-oob="true"', "")).strip() in page


async def test_a_confirm_refused_as_expired_comes_back_as_the_details_form_with_every_value(client):
    user = await make_user()
    departure = await make_departure()
    csrf = await login(client, user)
    _, data = await review_page(client, departure, csrf)
    refused = await client.post(f"/departures/{departure.id}/book", data={**data, "csrf_token": "stale"})
    assert refused.status == 403
    html = await refused.text()
    assert "We kept what you typed" in html
    for name, value in {"t1-full_name": "Asha Rao", "t1-phone": "98765 43210", "t1-emergency_contact_name": "Ravi Rao", "t2-full_name": "Meera Iyer", "t2-age": "29"}.items():
        assert f'name="{name}"' in html and f'value="{value}"' in html, name
    assert csrf_in(html) != "stale"
    assert await Booking.all().count() == 0


async def test_the_next_booking_starts_with_the_last_lead_travellers_details(client):
    user = await make_user()
    await hold(user, await make_departure(), 1)  # lead(): Asha Rao, 31, emergency contact Ravi Rao
    await login(client, user)
    html = await (await client.get(f"/departures/{(await make_departure(days_ahead=60, slug='other-trek')).id}/book")).text()
    for name, value in {
        "t1-full_name": "Asha Rao", "t1-age": "31", "t1-phone": "+919876543210", "t1-email": "asha@example.com",
        "t1-emergency_contact_name": "Ravi Rao", "t1-emergency_contact_phone": "+919812345678",
    }.items():  # fmt: skip
        assert re.search(rf'name="{name}" type="\w+" value="{re.escape(value)}"', html), name


async def test_a_review_step_refused_as_expired_comes_back_as_the_details_form(client):
    """The review step posts to /departures/{id}/book/review: its page is the details form."""
    user = await make_user()
    departure = await make_departure()
    await login(client, user)
    data = {"csrf_token": "stale", "count": "2", **form_for([LEAD_FORM, COMPANION_FORM])}
    refused = await client.post(f"/departures/{departure.id}/book/review", data=data)
    assert refused.status == 403
    html = await refused.text()
    assert "We kept what you typed" in html and 'value="Meera Iyer"' in html and 'value="Ravi Rao"' in html
    assert f'action="/departures/{departure.id}/book/review"' in html
