"""The notify service: real SMTP to a local server, or the outbox folder in development."""

import aiosmtplib
import pytest

from yatri.keys import NotifierKey
from yatri.services.notify import Mail, Notifier
from yatri.settings import Settings

MAIL = Mail("asha@example.com", "Your trip", "email/test.txt", {"name": "Asha", "amount": 123450})


async def test_mail_goes_out_by_smtp(app, smtp_outbox):
    rendered = app[NotifierKey].render(MAIL)
    await app[NotifierKey].deliver(rendered)
    [message] = await smtp_outbox.wait_for(1)
    assert message["To"] == "asha@example.com"
    assert message["Subject"] == "Your trip"
    assert message["Message-ID"] == rendered["message_id"]
    assert "Namaste Asha" in message.get_content()
    assert "₹1,234.50" in message.get_content()
    assert smtp_outbox.links(message) == ["http://127.0.0.1:8080/bookings"]


async def test_a_rendered_mail_is_plain_json_that_sends_the_same_message_twice(app, smtp_outbox):
    import json

    rendered = json.loads(json.dumps(app[NotifierKey].render(MAIL)))  # as the job row keeps it
    await app[NotifierKey].deliver(rendered)
    await app[NotifierKey].deliver(rendered)
    first, second = await smtp_outbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] and first["Date"] == second["Date"]


async def test_without_smtp_mail_is_written_to_the_outbox(app, tmp_path):
    notifier = app[NotifierKey]
    await notifier.deliver(notifier.render(Mail("ravi@example.com", "Hello", "email/test.txt", {"name": "Ravi", "amount": 100})))
    [path] = (tmp_path / "var" / "outbox").glob("*.eml")
    assert b"Namaste Ravi" in path.read_bytes()
    assert b"\nOpen http://127.0.0.1:8080/bookings to see your bookings.\n" in path.read_bytes()  # not =-wrapped


async def test_an_unreachable_smtp_server_raises_for_the_job_to_retry(app, tmp_path):
    from tests.smtp import free_port

    settings = Settings(database_url=f"sqlite://{tmp_path}/x.sqlite3", smtp_url=f"smtp://127.0.0.1:{free_port()}")
    notifier = Notifier(settings, app[NotifierKey]._templates)
    with pytest.raises((OSError, aiosmtplib.SMTPException)):
        await notifier.deliver(notifier.render(MAIL))
