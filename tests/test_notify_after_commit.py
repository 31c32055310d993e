"""Mail leaves from one layer (services/notify.change): written as a job in the change's
transaction, sent by the worker after the commit, never for a change that rolled back."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from yatri.errors import Conflict
from yatri.keys import NotifierKey
from yatri.models import Booking, BookingStatus, Job, JobState
from yatri.services import notify
from yatri.services.booking import cancel_booking

from tests.booking_data import NOW, TODAY, hold, make_departure
from tests.helpers import make_user
from tests.jobs_helpers import jobs_settled, outbox_files

MAIL = notify.Mail("ravi@example.com", "Hello", "email/test.txt", {"name": "Ravi", "amount": 100})


def outbox(tmp_path) -> list:
    return sorted((tmp_path / "var" / "outbox").glob("*.eml"))


async def test_a_change_that_rolls_back_sends_nothing(client, tmp_path):
    with pytest.raises(Conflict):
        async with notify.change(client.app[NotifierKey]) as outgoing:
            outgoing.add(MAIL)
            raise Conflict("refused")
    assert not await Job.filter(kind="mail").exists()
    async with notify.change(client.app[NotifierKey]) as outgoing:
        outgoing.add(MAIL)
    [job] = await Job.filter(kind="mail")
    assert job.payload["to"] == "ravi@example.com" and "Namaste Ravi" in job.payload["body"]
    await outbox_files(tmp_path / "var", 1)
    await jobs_settled()
    assert (await Job.get(id=job.id)).state == JobState.DONE and len(outbox(tmp_path)) == 1


async def test_a_nested_change_writes_its_mail_in_the_outer_transaction(client, tmp_path):
    booking = await hold(await make_user(), await make_departure(), 1)
    await jobs_settled()  # the hold's own mail
    held = len(outbox(tmp_path))
    with pytest.raises(Conflict):
        async with notify.change(client.app[NotifierKey]):
            await cancel_booking(booking.reference, actor=None, today=TODAY, now=NOW, notifier=client.app[NotifierKey])
            raise Conflict("the outer change fails after the inner one")
    assert (await Booking.get(id=booking.id)).status == BookingStatus.HELD
    async with notify.change(client.app[NotifierKey]):
        await cancel_booking(booking.reference, actor=None, today=TODAY, now=NOW, notifier=client.app[NotifierKey])
    await jobs_settled()
    [mail] = outbox(tmp_path)[held:]
    assert f"Booking cancelled: {booking.reference}".encode() in mail.read_bytes()
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CANCELLED


async def test_a_change_that_mails_refuses_a_transaction_it_cannot_wait_for(client, tmp_path):
    with pytest.raises(RuntimeError, match="nested in a transaction"):
        async with in_transaction():
            async with notify.change(client.app[NotifierKey]):
                pass
    assert not await Job.filter(kind="mail").exists()


async def test_enqueue_refuses_a_payload_that_is_not_json(client):
    with pytest.raises(TypeError):
        async with notify.change(client.app[NotifierKey]) as outgoing:
            outgoing.enqueue("mail", {"booking": object()})
    assert not await Job.filter(periodic__isnull=True).exists()
