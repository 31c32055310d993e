"""A real SMTP server (aiosmtpd) that keeps what the app sends, for tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Outbox(list):
    """Messages received, as EmailMessage objects, in arrival order; `raw` holds their bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.raw.append(envelope.content)
        self.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    async def wait_for(self, count: int = 1, timeout: float = 5) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mail(s), got {len(self)}: {[m['Subject'] for m in self]}")
            await asyncio.sleep(0.02)
        return list(self)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self if m["To"] == address]

    @staticmethod
    def links(message: EmailMessage) -> list[str]:
        return re.findall(r"https?://\S+", message.get_content())


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.outbox = Outbox()
        self.port = port or free_port()
        self._controller = Controller(self.outbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


class StallingSmtpServer:
    """Accepts connections and never answers (not even the greeting): an SMTP server that
    hangs. `connections` counts who came."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._open: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._open.append(writer)

    async def __aenter__(self) -> StallingSmtpServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        """Stop listening and drop who came (also before the block ends, to free the port)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for writer in self._open:
            writer.close()
        await server.wait_closed()
