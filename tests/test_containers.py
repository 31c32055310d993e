"""The Dockerfile's documented run line and compose.yaml. There is no Docker engine here:
the image's command runs on this machine with the run line's settings, compose.yaml is
checked with `docker compose config` where the client has it and read as YAML always.
(tests/test_proxy_live.py runs compose's topology, Caddy before two workers on PostgreSQL.)"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest
import yaml

from yatri import PROJECT_ROOT

from tests.live import BIN
from tests.smtp import free_port

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
COMPOSE_ENV = {"POSTGRES_PASSWORD": "pg-secret", "SECRET_KEY": "k" * 40, "YATRI_DOMAIN": "yatri.example.com"}


def run_line_env() -> dict[str, str]:
    """The -e settings of the Dockerfile's `# Run: docker run ...` line, expanded by the shell."""
    line = re.search(r"^# Run: docker run (.+)$", DOCKERFILE, re.M).group(1)
    args = subprocess.run(["bash", "-c", f"set -- {line}; printf '%s\\0' \"$@\""], capture_output=True, text=True, check=True)
    words = args.stdout.split("\0")
    return dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "-e")


def test_the_dockerfile_run_line_serves_in_production(tmp_path):
    image_env = dict(re.findall(r"(\w+)=(\S+)", re.search(r"^ENV (.+)$", DOCKERFILE, re.M).group(1)))
    assert image_env["YATRI_ENV"] == "production"
    command = json.loads(re.search(r"^CMD (.+)$", DOCKERFILE, re.M).group(1))
    port = free_port()
    script = command[2].replace("--port 8080", f"--port {port}").replace("--host 0.0.0.0", "--host 127.0.0.1")
    # The run line's volume is /app/var, the image's SQLite default: here a temporary folder.
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin", **image_env, **run_line_env(),
        "YATRI_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite://{tmp_path / 'yatri.sqlite3'}",
    }  # fmt: skip
    with open(tmp_path / "log", "wb") as log:
        process = subprocess.Popen(command[:2] + [script], env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, (tmp_path / "log").read_text()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/trips", timeout=2) as response:
                        assert response.status == 200
                        assert "Strict-Transport-Security" in response.headers  # production mode
                    break
                except OSError:
                    assert time.monotonic() < deadline, (tmp_path / "log").read_text()
                    time.sleep(0.2)
        finally:
            process.terminate()
            process.wait(20)
    assert "applied models.0001_initial" in (tmp_path / "log").read_text()


def test_compose_topology():
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "yatri", "caddy"}
    assert all("healthcheck" in service for service in services.values())
    yatri = services["yatri"]
    assert yatri["build"] == "."
    assert "@db:5432/" in yatri["environment"]["DATABASE_URL"]
    assert int(yatri["environment"]["WORKERS"]) >= 2
    assert yatri["depends_on"]["db"]["condition"] == "service_healthy"
    assert "media:/app/var/media" in yatri["volumes"]
    assert any(volume.startswith("db:/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    caddy = services["caddy"]
    # Yatri believes X-Forwarded-For from Caddy only.
    assert caddy["networks"]["default"]["ipv4_address"] == yatri["environment"]["TRUSTED_PROXIES"]
    assert caddy["environment"]["YATRI_UPSTREAM"] == "yatri:8080" and "EXPOSE 8080" in DOCKERFILE
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert set(compose["volumes"]) >= {"db", "media"}


def _compose_client() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _compose_client(), reason="this docker client has no compose plugin")
def test_docker_compose_config_accepts_the_file():
    done = subprocess.run(
        ["docker", "compose", "--file", PROJECT_ROOT / "compose.yaml", "config", "--format", "json"],
        env={**os.environ, **COMPOSE_ENV}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    config = json.loads(done.stdout)
    assert set(config["services"]) == {"db", "yatri", "caddy"}
    assert config["services"]["yatri"]["environment"]["BASE_URL"] == "https://yatri.example.com"


@pytest.mark.skipif(shutil.which("caddy") is None, reason="Caddy is not installed (apt-get install caddy)")
def test_the_caddyfile_proxies_to_the_workers():
    def adapt(**env: str) -> dict:
        done = subprocess.run(
            ["caddy", "adapt", "--config", PROJECT_ROOT / "deploy" / "Caddyfile", "--adapter", "caddyfile"],
            env={**os.environ, **env}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return json.loads(done.stdout)

    assert '"dial":"127.0.0.1:8080"' in json.dumps(adapt(), separators=(",", ":"))
    compose = json.dumps(adapt(YATRI_UPSTREAM="yatri:8080", YATRI_DOMAIN="yatri.example.com"), separators=(",", ":"))
    assert '"dial":"yatri:8080"' in compose and '"host":["yatri.example.com"]' in compose


def test_the_systemd_units_run_yatri_commands_that_parse():
    from yatri.cli import _parser

    commands = {}
    for unit in ("yatri.service", "yatri-backup.service"):
        for line in (PROJECT_ROOT / "deploy" / unit).read_text().splitlines():
            if line.startswith("Exec") and "/opt/yatri/.venv/bin/yatri " in line:
                command = re.sub(r"\$\([^)]*\)", "TIME", line.split("/opt/yatri/.venv/bin/yatri ", 1)[1])
                words = command.rstrip("'").split()
                commands[words[0]] = _parser().parse_args(words)
    assert set(commands) == {"migrate", "serve", "backup"}
    assert commands["serve"].workers == 2 and commands["serve"].host == "127.0.0.1"
    service = (PROJECT_ROOT / "deploy" / "yatri.service").read_text()
    assert "KillMode=mixed" in service  # SIGTERM to gunicorn's master only, which stops its workers
    assert "ExecReload=/bin/kill -HUP $MAINPID" in service
    for unit in ("yatri.service", "yatri-backup.service"):  # var/prometheus, var/last-backup.json
        writable = re.search(r"^ReadWritePaths=(.+)$", (PROJECT_ROOT / "deploy" / unit).read_text(), re.M).group(1)
        assert "/opt/yatri/var" in writable.split(), unit
    timer = (PROJECT_ROOT / "deploy" / "yatri-backup.timer").read_text()
    calendar = re.search(r"^OnCalendar=(.+)$", timer, re.M).group(1)
    if shutil.which("systemd-analyze"):
        subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, check=True)
