"""Caddy (Debian's package) in front of `yatri serve --workers 2` on loopback, with
`tls internal`: HTTPS, the HTTP to HTTPS redirect, X-Forwarded-For and -Proto believed
only from TRUSTED_PROXIES, and Secure session cookies (in production always, elsewhere
when a trusted proxy says the client used HTTPS), and live-update streams (server-sent
events) passed through unbuffered: an event reaches the client while the stream is open."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.live import LiveServer
from tests.smtp import free_port
from yatri.services.events import CHANNEL, listener_dsn

TEMPLATE = Path(__file__).with_name("Caddyfile.template")
PRODUCTION = {
    "YATRI_ENV": "production",
    "SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123456789",
    "BASE_URL": "https://localhost",
}

pytestmark = pytest.mark.skipif(shutil.which("caddy") is None, reason="Caddy is not installed (apt-get install caddy)")


class Caddy:
    def __init__(self, home: Path, **ports: int) -> None:
        self.home = home
        self.http_port, self.https_port = free_port(), free_port()
        text = TEMPLATE.read_text()
        for name, value in {"http_port": self.http_port, "https_port": self.https_port, **ports}.items():
            text = text.replace("{" + name + "}", str(value))
        self.config = home / "Caddyfile"
        self.config.write_text(text)
        # Its internal CA and certificates live under XDG_DATA_HOME, not the user's home.
        self.env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
        self.log = tempfile.TemporaryFile()

    @property
    def root_certificate(self) -> Path:
        return self.home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def __enter__(self) -> Caddy:
        command = ["caddy", "run", "--config", str(self.config), "--adapter", "caddyfile"]
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 20
        while not self._serves_tls():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError(f"caddy did not start: {self.log.read().decode(errors='replace')}")
            time.sleep(0.1)
        return self

    def _serves_tls(self) -> bool:
        """Its CA is written and it completes a handshake for localhost (the site's
        certificate is issued a moment after the CA)."""
        if not self.root_certificate.exists():
            return False
        tls = ssl.create_default_context(cafile=self.root_certificate)
        try:
            with socket.create_connection(("localhost", self.https_port), timeout=2) as raw:
                with tls.wrap_socket(raw, server_hostname="localhost"):
                    return True
        except (OSError, ssl.SSLError):
            return False

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


def client_addresses(server: LiveServer, path: str) -> list[str]:
    """The client address of each request to `path` in the server's JSON access log."""
    lines = (json.loads(line) for line in server.output().splitlines() if line.startswith("{"))
    return [line["client"] for line in lines if line.get("logger") == "yatri.access" and line.get("path") == path]


async def test_caddy_serves_yatri_over_https(shared_database_url, tmp_path):
    app = LiveServer(shared_database_url, tmp_path / "var", serve_args=("--workers", "2"), TRUSTED_PROXIES="127.0.0.1", **PRODUCTION)
    untrusted = LiveServer(shared_database_url, tmp_path / "var1", **PRODUCTION)
    dev = LiveServer(shared_database_url, tmp_path / "var2", TRUSTED_PROXIES="127.0.0.1")
    with app, untrusted, dev, Caddy(tmp_path, app_port=app.port, untrusted_port=untrusted.port, dev_port=dev.port) as caddy:
        # The client trusts Caddy's own internal CA, which it wrote into its data folder.
        tls = ssl.create_default_context(cafile=caddy.root_certificate)
        https = f"https://localhost:{caddy.https_port}"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as http:
            async with http.get(f"http://localhost:{caddy.http_port}/trips?page=1", allow_redirects=False) as response:
                assert response.status == 308
                assert response.headers["Location"].startswith("https://localhost")
                assert response.headers["Location"].endswith("/trips?page=1")

            async with http.get(https + "/login") as response:
                assert response.status == 200
                assert "Strict-Transport-Security" in response.headers  # production mode, through the proxy
                cookie = response.headers["Set-Cookie"]
                assert "Secure" in cookie and "HttpOnly" in cookie

            # X-Forwarded-Proto: https, from Caddy: believed by the app that trusts it.
            # (tests/test_forwarded_proto.py: from a peer not in TRUSTED_PROXIES it is not.)
            http.cookie_jar.clear()  # the apps share one database, so one session: start anew
            async with http.get(https + "/dev/login") as response:
                assert response.status == 200 and "Secure" in response.headers["Set-Cookie"]

            for path in ("/healthz", "/untrusted/healthz"):
                async with http.get(https + path, headers={"X-Forwarded-For": "203.0.113.7"}) as response:
                    assert response.status == 200
            async with http.get(https + "/metrics") as response:
                assert response.status == 404  # blocked at the proxy
            await event_through_the_proxy(http, https + "/live/seats?d=7", shared_database_url)
        assert client_addresses(app, "/healthz")[-1] == "203.0.113.7"  # Caddy is in TRUSTED_PROXIES
        assert client_addresses(untrusted, "/healthz")[-1] == "127.0.0.1"  # without it, the header is ignored


async def event_through_the_proxy(http: aiohttp.ClientSession, url: str, database_url: str) -> None:
    """Open a live stream through the proxy, commit a change (a NOTIFY from another process,
    as a worker's change would send): its event arrives while the stream stays open."""
    async with http.get(url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        assert "Content-Encoding" not in response.headers  # Caddy's encode leaves the stream alone
        await asyncio.sleep(0.5)  # the worker has subscribed
        sent = time.monotonic()
        connection = await asyncpg.connect(listener_dsn(database_url))
        try:
            await connection.execute("SELECT pg_notify($1, 'departure:7')", CHANNEL)
        finally:
            await connection.close()
        async with asyncio.timeout(5):
            line = await response.content.readline()
            while line.strip() != b"event: seats-changed":
                line = await response.content.readline()
        assert time.monotonic() - sent < 2 and not response.content.at_eof()


def test_nginx_passes_live_streams_unbuffered():
    """nginx is not installed here, so its configuration is read: the stream location
    turns buffering off and waits longer than the heartbeat interval."""
    config = (Path(__file__).parents[1] / "deploy" / "nginx.conf").read_text()
    location = config[config.index("location /live/ {") :]
    location = location[: location.index("}")]
    assert "proxy_buffering off;" in location and "proxy_read_timeout 1h;" in location
    assert "proxy_pass http://yatri;" in location
