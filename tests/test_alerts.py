"""deploy/prometheus/alerts.yml: valid for Debian's promtool, its alerts fire on the
series they are written for (tests/prometheus/alerts_test.yml), and every metric they
read is one that /metrics serves."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from yatri import PROJECT_ROOT
from yatri.services.monitoring import record_backup

from tests.payments_data import NOW

ALERTS = PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml"
UNIT_TESTS = Path(__file__).parent / "prometheus" / "alerts_test.yml"

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (apt-get install prometheus)")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)


@needs_promtool
def test_promtool_checks_the_rules():
    checked = promtool("check", "rules", str(ALERTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout


@needs_promtool
def test_each_alert_fires_when_it_should_and_only_then():
    tested = promtool("test", "rules", str(UNIT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = set(re.findall(r"- alert: (\w+)", ALERTS.read_text()))
    assert alerts == set(re.findall(r"alertname: (\w+)", UNIT_TESTS.read_text()))  # each one has a test


async def test_the_alerts_read_metrics_that_exist(client, settings, tmp_path):
    archive = tmp_path / "backup.tar"
    archive.write_bytes(b"x")
    record_backup(settings.var_dir, archive, NOW)
    await client.get("/healthz")
    page = await (await client.get("/metrics")).text()
    served = set(re.findall(r"^(\w+)[{ ]", page, re.MULTILINE))
    used = set(re.findall(r"\b(yatri_\w+)", ALERTS.read_text()))
    assert used and used <= served, used - served
