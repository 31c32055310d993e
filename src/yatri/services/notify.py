"""Email to users, from this one layer, after the change that caused it commits.

A change that mails opens its transaction with `change(notifier)` and adds a `Mail` for
each message (the builders below say what each one holds); the mail goes out once the
transaction has committed, never for a change that rolled back. Services do this;
handlers never send. A durable outbox (written in the transaction, sent by a job) hooks
in at `change`. The Notifier renders a plain-text template and sends it.

With SMTP_URL (smtp://user:pass@host:port, STARTTLS when offered; smtps:// for TLS)
mail goes out by SMTP; without it (development) each message is written to
var/outbox/ and logged, so links can be followed without a mail server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import jinja2
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from yatri.models import Booking, Payment, User
from yatri.services.events import held_until_commit
from yatri.settings import Settings

log = logging.getLogger("yatri.notify")


@dataclass(frozen=True)
class Mail:
    """One message: to whom, its subject, and the template with what it shows."""

    to: str
    subject: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


class Notifier:
    def __init__(self, settings: Settings, templates: jinja2.Environment) -> None:
        self._settings = settings
        self._templates = templates

    def compose(self, to: str, subject: str, template: str, **context) -> EmailMessage:
        body = self._templates.get_template(template).render(
            base_url=self._settings.base_url, subject=subject, **context
        )
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        # RFC 5322 §3.6: every message has a Date, and a Message-ID unique under our own host.
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=urlsplit(self._settings.base_url).hostname)
        message.set_content(body)
        return message

    async def deliver(self, mail: Mail) -> bool:
        return await self.send(mail.to, mail.subject, mail.template, **mail.context)

    async def send(self, to: str, subject: str, template: str, **context) -> bool:
        """Send one message. A mail failure is logged, never raised: the change that
        caused the mail has already been committed and must not be undone by it."""
        message = self.compose(to, subject, template, **context)
        try:
            if self._settings.smtp_url:
                await self._smtp(message)
            else:
                self._to_outbox(message)
        except (OSError, aiosmtplib.SMTPException):
            log.exception("could not send %r to %s", subject, to)
            return False
        return True

    async def _smtp(self, message: EmailMessage) -> None:
        url = urlsplit(self._settings.smtp_url)
        await aiosmtplib.send(
            message,
            hostname=url.hostname,
            port=url.port or (465 if url.scheme == "smtps" else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=url.scheme == "smtps",
            timeout=15,
        )

    def _to_outbox(self, message: EmailMessage) -> None:
        outbox = self._settings.var_dir / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        path = outbox / f"{stamp}.eml"
        # 8-bit text, not quoted-printable, so links can be copied straight out of the file.
        message.set_content(message.get_content(), cte="8bit")
        path.write_bytes(bytes(message))
        log.info("mail to %s: %r written to %s", message["To"], message["Subject"], path)


@dataclass
class Outgoing:
    """The mail of one change; `delivered` is known once it has committed and been sent."""

    mails: list[Mail] = field(default_factory=list)
    delivered: bool = True

    def add(self, mail: Mail) -> None:
        self.mails.append(mail)


_open: ContextVar[Outgoing | None] = ContextVar("yatri_open_change", default=None)


@asynccontextmanager
async def change(notifier: Notifier | None) -> AsyncIterator[Outgoing]:
    """The transaction of a change that mails: what is added to the yielded Outgoing is
    sent through `notifier` once the transaction commits (nothing when it rolls back or
    `notifier` is None). A change nested in another adds its mail to the outer one, which
    sends it after the outer commit; a change with a notifier must not be nested in a
    transaction that is not a `change`, whose commit it could not wait for."""
    outer = _open.get()
    if outer is not None:
        async with in_transaction():
            yield outer
        return
    if notifier is not None and isinstance(User._meta.db, TransactionalDBClient):
        raise RuntimeError("a change that mails is nested in a transaction: open the outer one with notify.change")
    outgoing = Outgoing()
    token = _open.set(outgoing)
    try:
        async with held_until_commit(), in_transaction():  # events (services/events) go out at commit too
            yield outgoing
    finally:
        _open.reset(token)
    if notifier is not None:
        for mail in outgoing.mails:
            outgoing.delivered = await notifier.deliver(mail) and outgoing.delivered


# ---------------------------------------------------------------- what each mail says

BOOKING_SUBJECTS = {
    "held": "Seats held: {ref}",
    "confirmed": "Booking confirmed: {ref}",
    "cancelled": "Booking cancelled: {ref}",
    "expired": "Hold expired: {ref}",
    "refund_due": "Your online payment for {ref} will be refunded",
}


async def booking_mail(booking: Booking, event: str) -> Mail:
    """Tell the lead traveller (or the account's email) what happened to the booking."""
    await booking.fetch_related("user", "departure__trip", "travellers", "refunds")
    lead = next((t for t in booking.travellers if t.position == 1), None)
    return Mail(
        (lead.email if lead and lead.email else None) or booking.user.email,
        BOOKING_SUBJECTS[event].format(ref=booking.reference),
        f"email/booking_{event}.txt",
        {"booking": booking, "trip": booking.departure.trip, "departure": booking.departure,
         "name": lead.full_name if lead else booking.user.name},
    )  # fmt: skip


async def payment_rejected_mail(booking: Booking, payment: Payment, reason: str) -> Mail:
    await booking.fetch_related("user")
    return Mail(
        booking.user.email, f"Your payment for booking {booking.reference} was not accepted",
        "email/payment_rejected.txt", {"booking": booking, "payment": payment, "reason": reason},
    )  # fmt: skip


def verification_mail(user: User, token: str) -> Mail:
    return Mail(user.email, "Confirm your email for Yatri", "email/verify_email.txt", {"name": user.name, "token": token})


def password_reset_mail(user: User, token: str) -> Mail:
    return Mail(user.email, "Reset your Yatri password", "email/reset_password.txt", {"name": user.name, "token": token})
