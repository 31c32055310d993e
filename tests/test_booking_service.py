"""The booking service on both databases: holds, expiry, cancellation tiers, idempotency,
optimistic locking and the state machine."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import AuditLog, Booking, BookingStatus, Payment, PaymentMethod, PaymentStatus, Refund, Traveller
from yatri.services import booking as service
from yatri.services import state
from yatri.services.refunds import refund_quote
from yatri.services.seats import SeatsUnavailable, seats_taken
from yatri.services.travellers import validate_travellers
from yatri.web.bookings import traveller_forms

from tests.booking_data import COMPANION_FORM, LEAD_FORM, NOW, TODAY, companion, form_for, hold, lead, make_departure
from tests.helpers import make_user


async def pay(booking: Booking) -> Payment:
    return await Payment.create(
        booking=booking, method=PaymentMethod.UPI_QR, amount_paise=booking.total_paise, status=PaymentStatus.VERIFIED
    )


async def confirm(booking: Booking, admin) -> Booking:
    await pay(booking)
    return await service.confirm_booking(booking.reference, actor=admin, now=NOW)


async def test_a_hold_takes_seats_prices_with_gst_and_leaves_an_audit_row(client):
    user = await make_user()
    departure = await make_departure(capacity=10, price_rupees=12_000)
    booking = await hold(user, departure, 2)
    assert booking.status == BookingStatus.HELD
    assert booking.reference.startswith("YT-") and len(booking.reference) == 9
    assert (booking.subtotal_paise, booking.gst_paise, booking.total_paise) == (2_400_000, 120_000, 2_520_000)
    assert booking.hold_expires_at == NOW + timedelta(minutes=15)
    names = await Traveller.filter(booking=booking).order_by("position").values_list("full_name", flat=True)
    assert names == ["Asha Rao", "Companion 2"]
    assert await seats_taken(departure.id, NOW) == 2
    [row] = await AuditLog.filter(entity="booking", entity_id=booking.reference)
    assert (row.action, row.from_state, row.to_state, row.actor_id) == ("held", None, "held", user.id)


async def test_more_travellers_than_seats_left_is_refused_with_the_number_left(client):
    user = await make_user()
    departure = await make_departure(capacity=3)
    await hold(user, departure, 2)
    with pytest.raises(SeatsUnavailable, match="Only 1 seat is left") as refused:
        await hold(user, departure, 2)
    assert refused.value.seats_left == 1
    await hold(user, departure, 1)
    with pytest.raises(SeatsUnavailable, match="sold out"):
        await hold(user, departure, 1)
    assert await Booking.all().count() == 2


async def test_past_unpublished_closed_and_cancelled_departures_cannot_be_booked(client):
    user = await make_user()
    with pytest.raises(Conflict, match="already started"):
        await hold(user, await make_departure(days_ahead=0), 1)
    with pytest.raises(NotFound, match="not offered"):
        await hold(user, await make_departure(is_published=False), 1)
    closed = await make_departure()
    closed.sales_closed = True
    await closed.save()
    with pytest.raises(Conflict, match="closed"):
        await hold(user, closed, 1)
    with pytest.raises(ValidationError, match="1 to 2 travellers"):
        await hold(user, await make_departure(max_per_booking=2), 3)
    assert await Booking.all().count() == 0


async def test_the_same_idempotency_key_makes_one_booking(client):
    user = await make_user()
    departure = await make_departure()
    first, second = await asyncio.gather(hold(user, departure, 2, key="k-1"), hold(user, departure, 2, key="k-1"))
    assert first.id == second.id
    assert await Booking.all().count() == 1
    assert await seats_taken(departure.id, NOW) == 2


async def test_an_idempotency_key_belongs_to_its_user(client):
    departure = await make_departure()
    asha = await hold(await make_user(), departure, 1, key="same-key")
    ravi = await hold(await make_user("ravi@example.com"), departure, 1, key="same-key")
    assert asha.id != ravi.id and ravi.user_id != asha.user_id


async def test_lapsed_holds_stop_counting_at_once_and_expire_with_an_audit_row(client):
    user = await make_user()
    departure = await make_departure(capacity=2)
    booking = await hold(user, departure, 2)
    later = NOW + timedelta(minutes=16)
    assert await seats_taken(departure.id, later) == 0  # before the task has run
    [expired] = await service.expire_lapsed_holds(later)
    assert expired.reference == booking.reference
    assert (await Booking.get(id=booking.id)).status == BookingStatus.EXPIRED
    assert await service.expire_lapsed_holds(later) == []
    row = await AuditLog.filter(entity="booking", entity_id=booking.reference, action="expired").get()
    assert (row.from_state, row.to_state, row.actor_id) == ("held", "expired", None)
    await hold(user, departure, 2, now=later)  # the seats are for sale again


@pytest.mark.parametrize(("days_ahead", "percent"), [(40, 90), (30, 90), (29, 50), (15, 50), (14, 0), (1, 0)])
async def test_cancelling_a_confirmed_booking_refunds_by_the_policy_tier(client, days_ahead, percent):
    user = await make_user()
    admin = await make_user("ops@example.com", role="admin")
    departure = await make_departure(days_ahead=days_ahead)
    booking = await confirm(await hold(user, departure, 2), admin)
    quote = await refund_quote(await Booking.get(id=booking.id).select_related("departure__trip"), TODAY)
    assert (quote.days_before, quote.percent, quote.paid_paise) == (days_ahead, percent, booking.total_paise)
    assert quote.amount_paise == booking.total_paise * percent // 100
    cancelled = await service.cancel_booking(booking.reference, actor=user, today=TODAY, now=NOW)
    assert cancelled.status == BookingStatus.CANCELLED
    assert await seats_taken(departure.id, NOW) == 0
    refunds = await Refund.filter(booking_id=booking.id).values_list("amount_paise", flat=True)
    assert refunds == ([quote.amount_paise] if percent else [])
    row = await AuditLog.filter(entity="booking", entity_id=booking.reference, action="cancelled").get()
    assert (row.from_state, row.to_state, row.data["refund_paise"]) == ("confirmed", "cancelled", quote.amount_paise)


async def test_cancelling_an_unpaid_hold_refunds_nothing_and_frees_the_seats(client):
    user = await make_user()
    departure = await make_departure(capacity=2)
    booking = await hold(user, departure, 2)
    await service.cancel_booking(booking.reference, actor=user, today=TODAY, now=NOW)
    assert await Refund.all().count() == 0
    assert await seats_taken(departure.id, NOW) == 0
    with pytest.raises(Conflict, match="nothing to cancel"):
        await service.cancel_booking(booking.reference, actor=user, today=TODAY, now=NOW)


async def test_a_full_refund_returns_everything_paid_whatever_the_tier(client):
    user = await make_user()
    admin = await make_user("ops@example.com", role="admin")
    booking = await confirm(await hold(user, await make_departure(days_ahead=3), 1), admin)
    await service.cancel_booking(booking.reference, actor=admin, today=TODAY, now=NOW, full_refund=True, reason="Departure cancelled")
    refund = await Refund.get(booking_id=booking.id)
    assert (refund.amount_paise, refund.reason) == (booking.total_paise, "Departure cancelled")


async def test_the_state_machine_refuses_impossible_moves(client):
    user = await make_user()
    booking = await hold(user, await make_departure(), 1)
    async with state.locked_booking(booking.reference) as locked:
        await state.set_status(locked, BookingStatus.EXPIRED, actor=None)
    with pytest.raises(Conflict, match="hold expired"):
        async with state.locked_booking(booking.reference) as locked:
            await state.set_status(locked, BookingStatus.CONFIRMED, actor=None)
    assert (await Booking.get(id=booking.id)).status == BookingStatus.EXPIRED


async def test_a_lapsed_hold_is_confirmed_by_hand_only_while_its_seats_are_free(client):
    user = await make_user()
    admin = await make_user("ops@example.com", role="admin")
    departure = await make_departure(capacity=2)
    first = await hold(user, departure, 2)
    later = NOW + timedelta(minutes=20)
    await hold(user, departure, 1, now=later)  # someone took a seat after the hold lapsed
    with pytest.raises(SeatsUnavailable, match="Only 1 seat"):
        await service.confirm_booking(first.reference, actor=admin, now=later)
    assert (await Booking.get(id=first.id)).status == BookingStatus.HELD


async def test_a_stale_traveller_edit_is_refused_with_both_versions(client):
    user = await make_user()
    booking = await hold(user, await make_departure(), 2)
    mine = [lead(full_name="Asha R. Rao"), companion("Meera I.")]
    theirs = [lead(), companion("Meera Iyer-Nair")]
    updated = await service.update_travellers(booking.reference, theirs, version=booking.version, actor=user, today=TODAY)
    with pytest.raises(service.TravellersChanged) as conflict:
        await service.update_travellers(booking.reference, mine, version=booking.version, actor=user, today=TODAY)
    assert [t.full_name for t in conflict.value.theirs] == ["Asha Rao", "Meera Iyer-Nair"]
    assert [t.full_name for t in conflict.value.yours] == ["Asha R. Rao", "Meera I."]
    await service.update_travellers(booking.reference, mine, version=updated.version, actor=user, today=TODAY)
    names = await Traveller.filter(booking_id=booking.id).order_by("position").values_list("full_name", flat=True)
    assert names == ["Asha R. Rao", "Meera I."]


async def test_only_the_owner_or_an_admin_can_read_a_booking(client):
    owner = await make_user()
    other = await make_user("ravi@example.com")
    admin = await make_user("ops@example.com", role="admin")
    booking = await hold(owner, await make_departure(), 1)
    assert (await service.booking_for(owner, booking.reference.lower())).id == booking.id
    assert (await service.booking_for(admin, booking.reference)).id == booking.id
    with pytest.raises(NotFound):
        await service.booking_for(other, booking.reference)


def test_traveller_details_are_checked_field_by_field():
    bad_lead = {**LEAD_FORM, "age": "abc", "phone": "12", "email": "asha@", "emergency_contact_name": ""}
    bad_companion = {**COMPANION_FORM, "full_name": " ", "age": "130"}
    raw = traveller_forms(form_for([bad_lead, bad_companion]), 2)
    with pytest.raises(ValidationError) as invalid:
        validate_travellers(raw)
    assert set(invalid.value.errors) == {
        "t1-age", "t1-phone", "t1-email", "t1-emergency_contact_name", "t2-full_name", "t2-age",
    }  # fmt: skip
    [asha, meera] = validate_travellers(traveller_forms(form_for([LEAD_FORM, COMPANION_FORM]), 2))
    assert (asha.email, asha.phone, asha.age) == ("asha@example.com", "9876543210", 31)
    assert (meera.full_name, meera.phone, meera.gender) == ("Meera Iyer", None, None)
