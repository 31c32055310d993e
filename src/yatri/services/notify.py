"""Email to users: one Notifier renders a plain-text template and sends it.

With SMTP_URL (smtp://user:pass@host:port, STARTTLS when offered; smtps:// for TLS)
mail goes out by SMTP; without it (development) each message is written to
var/outbox/ and logged, so links can be followed without a mail server.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib
import jinja2

from yatri.settings import Settings

log = logging.getLogger("yatri.notify")


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
