"""`yatri create-admin EMAIL` takes the password from standard input or a prompt."""

import asyncio
import subprocess
import sys

import pytest
from tortoise.context import TortoiseContext

from yatri.cli import main
from yatri.db import tortoise_config
from yatri.models import Role, User
from yatri.services.accounts import verify_password


@pytest.fixture
def cli_env(tmp_path):
    env = {"DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "yatri", "migrate"], env=env, check=True, capture_output=True)
    return env


def _yatri(env, *args, stdin=""):
    return subprocess.run([sys.executable, "-m", "yatri", *args], env=env, input=stdin, capture_output=True, text=True)


async def _user(url, email):
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        return await User.get(email=email)


def test_create_admin_reads_password_from_stdin(cli_env):
    result = _yatri(cli_env, "create-admin", "Meera@Example.com", "--name", "Meera", stdin="correct horse battery\n")
    assert result.returncode == 0, result.stderr
    assert "created admin meera@example.com" in result.stdout
    user = asyncio.run(_user(cli_env["DATABASE_URL"], "meera@example.com"))
    assert user.role == Role.ADMIN and user.name == "Meera"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "correct horse battery")

    again = _yatri(cli_env, "create-admin", "meera@example.com", stdin="another long secret\n")
    assert "updated admin" in again.stdout
    user = asyncio.run(_user(cli_env["DATABASE_URL"], "meera@example.com"))
    assert verify_password(user.password_hash, "another long secret")


def test_create_admin_refuses_a_short_password(cli_env):
    result = _yatri(cli_env, "create-admin", "ravi@example.com", stdin="short\n")
    assert result.returncode == 2
    assert "at least 10 characters" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [(("a" * 300 + "@example.com",), "Enter an email address"), (("ravi@example.com", "--name", "R" * 200), "under 120 characters")],
)
def test_create_admin_refuses_text_longer_than_its_column(cli_env, args, message):
    result = _yatri(cli_env, "create-admin", *args, stdin="correct horse battery\n")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--workers", "٣"], ["--workers", "0"], ["--workers", "9" * 5000], ["--port", "²"], ["--port", "65536"]])
def test_serve_takes_ascii_bounded_numbers_only(args, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["serve", *args])
    assert exit.value.code == 2
    assert f"argument {args[0]}: must be a whole number from" in capsys.readouterr().err
