"""Mail leaves from one layer (services/notify.change), only after the change commits."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from yatri.errors import Conflict
from yatri.keys import NotifierKey
from yatri.models import Booking, BookingStatus
from yatri.services import notify
from yatri.services.booking import cancel_booking

from tests.booking_data import NOW, TODAY, hold, make_departure
from tests.helpers import make_user

MAIL = notify.Mail("ravi@example.com", "Hello", "email/test.txt", {"name": "Ravi", "amount": 100})


def outbox(tmp_path) -> list:
    return sorted((tmp_path / "var" / "outbox").glob("*.eml"))


async def test_a_change_that_rolls_back_sends_nothing(client, tmp_path):
    with pytest.raises(Conflict):
        async with notify.change(client.app[NotifierKey]) as outgoing:
            outgoing.add(MAIL)
            raise Conflict("refused")
    assert outbox(tmp_path) == []
    async with notify.change(client.app[NotifierKey]) as outgoing:
        outgoing.add(MAIL)
    assert len(outbox(tmp_path)) == 1 and outgoing.delivered


async def test_a_nested_change_mails_once_the_outer_one_commits(client, tmp_path):
    booking = await hold(await make_user(), await make_departure(), 1)
    async with notify.change(client.app[NotifierKey]):
        await cancel_booking(booking.reference, actor=None, today=TODAY, now=NOW, notifier=client.app[NotifierKey])
        assert outbox(tmp_path) == []  # cancelled inside the outer transaction: not committed yet
    [mail] = outbox(tmp_path)
    assert f"Booking cancelled: {booking.reference}".encode() in mail.read_bytes()
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CANCELLED


async def test_a_change_that_mails_refuses_a_transaction_it_cannot_wait_for(client, tmp_path):
    with pytest.raises(RuntimeError, match="nested in a transaction"):
        async with in_transaction():
            async with notify.change(client.app[NotifierKey]):
                pass
    assert outbox(tmp_path) == []
