"""The notify service: real SMTP to a local server, or the outbox folder in development."""

from yatri.keys import NotifierKey
from yatri.services.notify import Notifier
from yatri.settings import Settings


async def test_mail_goes_out_by_smtp(app, smtp_outbox):
    sent = await app[NotifierKey].send("asha@example.com", "Your trip", "email/test.txt", name="Asha", amount=123450)
    assert sent
    [message] = await smtp_outbox.wait_for(1)
    assert message["To"] == "asha@example.com"
    assert message["Subject"] == "Your trip"
    assert "Namaste Asha" in message.get_content()
    assert "₹1,234.50" in message.get_content()
    assert smtp_outbox.links(message) == ["http://127.0.0.1:8080/bookings"]


async def test_without_smtp_mail_is_written_to_the_outbox(app, tmp_path):
    notifier = app[NotifierKey]
    assert await notifier.send("ravi@example.com", "Hello", "email/test.txt", name="Ravi", amount=100)
    [path] = (tmp_path / "var" / "outbox").glob("*.eml")
    assert b"Namaste Ravi" in path.read_bytes()
    assert b"\nOpen http://127.0.0.1:8080/bookings to see your bookings.\n" in path.read_bytes()  # not =-wrapped


async def test_an_unreachable_smtp_server_is_logged_not_raised(app, tmp_path, caplog):
    from tests.smtp import free_port

    settings = Settings(database_url=f"sqlite://{tmp_path}/x.sqlite3", smtp_url=f"smtp://127.0.0.1:{free_port()}")
    notifier = Notifier(settings, app[NotifierKey]._templates)
    assert not await notifier.send("x@example.com", "Lost", "email/test.txt", name="X", amount=1)
    assert "could not send 'Lost'" in caplog.text
