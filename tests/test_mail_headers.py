"""RFC 5322 §3.6: every mail the app sends has a Date and a Message-ID under BASE_URL's host,
read back with the standard library's strict parser from what the real SMTP server received
and from the development outbox."""

import dataclasses
import email
import email.policy
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import csrf_from, make_user
from tests.jobs_helpers import outbox_files

HOST = "trips.example.com"


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, base_url=f"https://{HOST}/")


def assert_rfc5322(raw: bytes) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.strict)
    assert message.defects == []
    date, message_id = message["Date"], message["Message-ID"]
    assert date is not None and message_id is not None, raw[:400]
    assert date.defects == () and message_id.defects == ()
    assert abs(date.datetime - datetime.now(timezone.utc)) < timedelta(minutes=1)
    left, _, right = str(message_id).strip().removeprefix("<").removesuffix(">").partition("@")
    assert left and right == HOST and str(message_id).startswith("<")
    assert len(message.get_all("Date")) == len(message.get_all("Message-ID")) == 1


async def sign_up(client) -> None:
    form = {"name": "Asha Rao", "email": "asha@example.com", "phone": "", "password": "monsoon-over-munnar-7"}
    form["csrf_token"] = await csrf_from(client, "/signup")
    assert (await client.post("/signup", data=form, allow_redirects=False)).status == 303


async def test_the_signup_mail_received_by_smtp_has_date_and_message_id(client, smtp_outbox):
    await sign_up(client)
    await smtp_outbox.wait_for(1)
    [raw] = smtp_outbox.raw
    assert_rfc5322(raw)


async def test_the_password_reset_mail_in_the_outbox_has_date_and_message_id(client, tmp_path):
    await make_user("asha@example.com")
    token = await csrf_from(client, "/password-reset")
    assert (await client.post("/password-reset", data={"email": "asha@example.com", "csrf_token": token})).status == 200
    [path] = await outbox_files(tmp_path / "var", 1)
    assert_rfc5322(path.read_bytes())

