"""docs/deploy.md's rollback, as an operator runs it: the release that added the newest
migration undoes it (`yatri migrate --to` the previous release's last migration), then the
previous release's own code migrates (nothing to do) and serves the same data."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path

import pytest

from yatri import PROJECT_ROOT
from yatri.db import migration_names

from tests.live import LiveServer
from tests.test_backup import fetch, own_database, snapshot, yatri  # noqa: F401 (a fixture)


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, check=True).stdout


def previous_release() -> str:
    """The newest commit of this branch whose migrations are all but the newest one: the
    last release that ran without it."""
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("the rollback test checks out the previous release from git history")
    wanted = migration_names()[:-1]
    for commit in git("rev-list", "--first-parent", "--max-count=500", "HEAD").split():
        if migrations_of(commit) == wanted:
            return commit
    pytest.skip("no commit in this history has the previous release's migrations (a shallow clone?)")


def migrations_of(commit: str) -> list[str]:
    """docs/deploy.md: `git ls-tree --name-only PREVIOUS migrations/`, the numbered ones."""
    files = git("ls-tree", "--name-only", commit, "migrations/").split()
    return sorted(Path(f).stem for f in files if re.fullmatch(r"[0-9]{4}_[A-Za-z0-9_]+\.py", Path(f).name))


def _no_links_outside(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    """tarfile's "data" filter, skipping a link out of the tree (a stray committed
    `.venv-main` -> /work/main/.venv) that the "data" filter refuses outright."""
    if member.issym() and Path(member.linkname).is_absolute():
        return None
    return tarfile.data_filter(member, path)


def check_out(commit: str, into: Path) -> Path:
    """`git checkout PREVIOUS` into a folder of its own (htmx is built, not committed)."""
    archive = subprocess.run(["git", "-C", str(PROJECT_ROOT), "archive", commit], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter=_no_links_outside)
    shutil.copytree(PROJECT_ROOT / "static" / "vendor", into / "static" / "vendor")
    return into


async def test_roll_back_to_the_previous_release(own_database, tmp_path):  # noqa: F811
    previous = previous_release()
    target = migrations_of(previous)[-1]
    names = migration_names()
    assert target in names and target != names[-1]
    var = tmp_path / "var"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": own_database, "YATRI_VAR_DIR": str(var)}
    assert yatri(env, "demo-data").returncode == 0
    before = await snapshot(own_database)

    down = yatri(env, "migrate", "--to", target)  # this release's code knows how to undo its migrations
    assert down.returncode == 0, down.stderr
    undone = [f"unapplied models.{name}" for name in reversed(names[names.index(target) + 1 :])]
    assert down.stdout.splitlines() == [*undone, f"database is at models.{target}"]

    code = check_out(previous, tmp_path / "previous")
    old = LiveServer(own_database, var, PYTHONPATH=str(code / "src"))
    assert old.yatri("migrate").stdout == "database is up to date\n"  # the service's ExecStartPre
    newest = subprocess.run(old.command("migrate", "--to", names[-1]), env=old.env, capture_output=True, text=True)
    assert newest.returncode == 2  # that code does not know the newest migration: it is the previous release
    [(slug,)] = await fetch(own_database, "SELECT slug FROM trips WHERE is_published = true ORDER BY slug LIMIT 1")
    with old:
        for path in ("/readyz", "/trips", f"/trips/{slug}"):
            with urllib.request.urlopen(old.url + path, timeout=10) as response:
                assert response.status == 200, path
    after = await snapshot(own_database)
    assert after["references"] == before["references"]
    assert {t: c for t, c in after["counts"].items() if t != "tortoise_migrations"} == {
        t: c for t, c in before["counts"].items() if t in after["counts"] and t != "tortoise_migrations"
    }
    assert yatri(env, "migrate").stdout.startswith(f"applied models.{names[names.index(target) + 1]}\n")  # and up again
