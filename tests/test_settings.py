"""Settings come from the environment and are checked before anything starts."""

import os
import subprocess
import sys

import pytest

from yatri.settings import DEV_SECRET_KEY, Settings, SettingsError


def test_defaults_serve_a_new_user_on_sqlite():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite://") and settings.database_url.endswith("var/yatri.sqlite3")
    assert settings.env == "development" and settings.base_url == "http://127.0.0.1:8080"
    assert settings.oidc_metadata_url.startswith("https://accounts.google.com/")


def test_values_are_read_from_the_environment():
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://u@db:5432/yatri", "BASE_URL": "http://x.test/", "UPI_VPA": "shop@okhdfc"}
    )
    assert settings.database_url == "postgres://u@db:5432/yatri"
    assert settings.base_url == "http://x.test" and settings.upi_vpa == "shop@okhdfc"


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().env = "production"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"YATRI_ENV": "staging"}, "YATRI_ENV must be one of"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with"),
        ({"BASE_URL": "yatri.example"}, "BASE_URL must be an absolute"),
        ({"UPI_VPA": "not a vpa"}, "UPI_VPA must look like"),
        ({"YATRI_TIMEZONE": "Mars/Olympus"}, "not a known time zone"),
        ({"YATRI_ENV": "production", "BASE_URL": "https://y.example"}, "SECRET_KEY must be set"),
        ({"YATRI_ENV": "production", "SECRET_KEY": DEV_SECRET_KEY, "BASE_URL": "https://y.example"}, "SECRET_KEY must be set"),
        ({"YATRI_ENV": "production", "SECRET_KEY": "short", "BASE_URL": "https://y.example"}, "at least 32"),
        ({"YATRI_ENV": "production", "SECRET_KEY": "s" * 40, "BASE_URL": "http://y.example"}, "must use https"),
    ],
)  # fmt: skip
def test_invalid_settings_are_refused_with_a_clear_message(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_production_accepts_a_real_secret_and_https():
    settings = Settings.from_env({"YATRI_ENV": "production", "SECRET_KEY": "k" * 48, "BASE_URL": "https://y.example"})
    assert settings.production


def test_production_start_without_secret_exits_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(YATRI_ENV="production", BASE_URL="https://yatri.example", DATABASE_URL=f"sqlite://{tmp_path}/x.db")
    result = subprocess.run(
        [sys.executable, "-m", "yatri", "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.strip() == "yatri: error: SECRET_KEY must be set to a long random value in production"
    assert not (tmp_path / "x.db").exists()


def test_operator_contact_is_read_and_checked():
    settings = Settings.from_env({"OPERATOR_PHONE": "+91 80 1234 5678", "OPERATOR_WHATSAPP": "918012345678", "OPERATOR_EMAIL": "desk@trek.example"})
    assert (settings.operator_phone, settings.operator_whatsapp, settings.operator_email) == ("+91 80 1234 5678", "918012345678", "desk@trek.example")
    with pytest.raises(SettingsError, match="OPERATOR_WHATSAPP"):
        Settings.from_env({"OPERATOR_WHATSAPP": "+91 98765"})
    with pytest.raises(SettingsError, match="OPERATOR_EMAIL"):
        Settings.from_env({"OPERATOR_EMAIL": "not an address"})
