"""Email to users, from this one layer, as jobs written in the change that caused them.

A change that mails opens its transaction with `change(notifier)` and adds a `Mail` for
each message (the builders below say what each one holds). The mail is rendered at once
and written as a job row (kind "mail") in the same transaction: it exists exactly when
the change committed, and a worker sends it after the commit (services/jobs.py: retried
with backoff while SMTP is down, dead after the last try, visible at /admin/jobs).
Requests never wait on SMTP. `out.enqueue(kind, payload, run_at=None)` writes any other
follow-up of the change the same way. Services do this; handlers never send.

Rendered when the change is made, not when sent: the mail says what was true at the
commit (a later edit of the booking does not rewrite it), a job needs no model rows that
may have changed or gone, and every template's context stays what it is today. The
stored message keeps its Message-ID, so a retry is the same message.

With SMTP_URL (smtp://user:pass@host:port, STARTTLS when offered; smtps:// for TLS)
mail goes out by SMTP; without it (development) each message is written to
var/outbox/ and logged, so links can be followed without a mail server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import jinja2
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from yatri.models import Booking, Payment, User
from yatri.services import jobs
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
    """Renders mails and sends rendered ones; `wakeup` is set when a change has queued
    jobs, for this process's worker to look at once."""

    def __init__(self, settings: Settings, templates: jinja2.Environment) -> None:
        self.settings = settings
        self._templates = templates
        self.wakeup = asyncio.Event()

    def render(self, mail: Mail) -> dict[str, str]:
        """The message as a JSON-safe job payload."""
        return {
            "to": mail.to,
            "subject": mail.subject,
            "body": self._templates.get_template(mail.template).render(
                base_url=self.settings.base_url, subject=mail.subject, **mail.context
            ),
            # RFC 5322 §3.6: every message has a Date, and a Message-ID unique under our own host.
            "date": formatdate(usegmt=True),
            "message_id": make_msgid(domain=urlsplit(self.settings.base_url).hostname),
        }

    def compose(self, rendered: dict[str, str]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = rendered["to"]
        message["Subject"] = rendered["subject"]
        message["Date"] = rendered["date"]
        message["Message-ID"] = rendered["message_id"]
        message.set_content(rendered["body"])
        return message

    async def deliver(self, rendered: dict[str, str]) -> None:
        """Send one rendered message; OSError or SMTPException when it could not be (the
        job is tried again)."""
        message = self.compose(rendered)
        if self.settings.smtp_url:
            await self._smtp(message)
        else:
            self._to_outbox(message)

    async def _smtp(self, message: EmailMessage) -> None:
        url = urlsplit(self.settings.smtp_url)
        await aiosmtplib.send(
            message,
            hostname=url.hostname,
            port=url.port or (465 if url.scheme == "smtps" else 25),
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            use_tls=url.scheme == "smtps",
            timeout=self.settings.smtp_timeout_seconds,
        )

    def _to_outbox(self, message: EmailMessage) -> None:
        outbox = self.settings.var_dir / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = outbox / f"{stamp}.eml"
        # 8-bit text, not quoted-printable, so links can be copied straight out of the file.
        message.set_content(message.get_content(), cte="8bit")
        path.write_bytes(bytes(message))
        log.info("mail to %s: %r written to %s", message["To"], message["Subject"], path)


@dataclass
class Outgoing:
    """The follow-ups of one change, written as job rows before it commits."""

    notifier: Notifier | None = None
    jobs: list[jobs.NewJob] = field(default_factory=list)

    def add(self, mail: Mail) -> None:
        """A mail, rendered now; dropped when the change was opened without a notifier."""
        if self.notifier is not None:
            self.jobs.append(jobs.new_job("mail", self.notifier.render(mail)))

    def enqueue(self, kind: str, payload: dict[str, Any], run_at: datetime | None = None) -> None:
        """A job of `kind` (a handler in yatri.jobs.handlers) with a JSON-safe payload,
        to run after the commit, or not before `run_at` (aware, UTC)."""
        self.jobs.append(jobs.new_job(kind, payload, run_at))


_open: ContextVar[Outgoing | None] = ContextVar("yatri_open_change", default=None)


@asynccontextmanager
async def change(notifier: Notifier | None) -> AsyncIterator[Outgoing]:
    """The transaction of a change that mails or has follow-ups: what is added to the
    yielded Outgoing is written as job rows inside it (nothing when it rolls back), and
    this process's worker is woken after the commit. A change nested in another adds to
    the outer one; a change with a notifier must not be nested in a transaction that is
    not a `change`, whose commit its jobs would silently depend on."""
    outer = _open.get()
    if outer is not None:
        async with in_transaction():
            yield outer
        return
    if notifier is not None and isinstance(User._meta.db, TransactionalDBClient):
        raise RuntimeError("a change that mails is nested in a transaction: open the outer one with notify.change")
    outgoing = Outgoing(notifier)
    token = _open.set(outgoing)
    try:
        async with held_until_commit(), in_transaction():  # events (services/events) go out at commit too
            yield outgoing
            await jobs.write(outgoing.jobs, (notifier.settings if notifier else Settings).job_max_attempts)
    finally:
        _open.reset(token)
    if outgoing.jobs and notifier is not None:
        notifier.wakeup.set()


async def send_mail(ctx: jobs.JobContext, payload: dict) -> None:
    """The "mail" job's handler."""
    await ctx.notifier.deliver(payload)


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
