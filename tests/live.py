"""A real `yatri serve` process on a free port, for tests that need one over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.smtp import free_port

BIN = Path(sys.executable).parent


class LiveServer:
    def __init__(self, database_url: str, var_dir: Path, serve_args: tuple[str, ...] = (), **env: str) -> None:
        self.port = free_port()
        self.serve_args = serve_args
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": database_url, "YATRI_VAR_DIR": str(var_dir), **env}
        self.process: subprocess.Popen | None = None
        # The server's log goes to a file: an unread pipe fills up and stalls the server.
        self.log = tempfile.TemporaryFile()

    def command(self, *args: str) -> list:
        return [BIN / "yatri", *args]

    def yatri(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), input=input, env=self.env, capture_output=True, text=True, timeout=60, check=True
        )

    def __enter__(self) -> LiveServer:
        self.process = subprocess.Popen(
            [BIN / "yatri", "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.serve_args],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"yatri serve exited: {self.output()}")
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("yatri serve did not start within 30 s")

    def output(self) -> str:
        """What the server has logged so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
