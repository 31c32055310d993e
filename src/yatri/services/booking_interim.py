"""Stand-in for `locked_booking` and `set_status` until the lead's booking service lands
(same signatures as BOOKING_API.md); removed when main has them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound
from yatri.models import Booking, BookingStatus as S, User
from yatri.services import audit

ALLOWED = {
    S.HELD: {S.PENDING_PAYMENT, S.PAYMENT_SUBMITTED, S.CONFIRMED, S.CANCELLED, S.EXPIRED},
    S.PENDING_PAYMENT: {S.PAYMENT_SUBMITTED, S.CONFIRMED, S.CANCELLED, S.EXPIRED},
    S.PAYMENT_SUBMITTED: {S.PENDING_PAYMENT, S.CONFIRMED, S.CANCELLED, S.EXPIRED},
    S.EXPIRED: {S.PAYMENT_SUBMITTED},
    S.CONFIRMED: {S.CANCELLED},
    S.CANCELLED: {S.REFUNDED},
    S.REFUNDED: set(),
}


@asynccontextmanager
async def locked_booking(reference: str) -> AsyncIterator[Booking]:
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "sqlite":
            await conn.execute_query("UPDATE bookings SET version = version WHERE reference = ?", [reference])
            booking = await Booking.get_or_none(reference=reference).using_db(conn)
        else:
            booking = await Booking.select_for_update().get_or_none(reference=reference).using_db(conn)
        if booking is None:
            raise NotFound("This booking does not exist.")
        await booking.fetch_related("departure__trip")
        yield booking


async def set_status(
    booking: Booking, to: S, *, actor: User | None, action: str | None = None, data: dict | None = None, **fields
) -> Booking:
    before = S(booking.status)
    if to not in ALLOWED[before]:
        raise Conflict(f"A {before.value.replace('_', ' ')} booking cannot become {to.value.replace('_', ' ')}.")
    booking.status = to
    for name, value in fields.items():
        setattr(booking, name, value)
    booking.version += 1
    await booking.save()
    await audit.record("booking", booking.reference, action or to.value, before.value, to.value, actor=actor, data=data)
    return booking


async def send_booking_mail(notifier, booking: Booking, event: str) -> bool:
    await booking.fetch_related("user")
    return await notifier.send(
        booking.user.email, f"Booking {booking.reference} {event}", "email/payment_interim.txt", booking=booking, event=event
    )
