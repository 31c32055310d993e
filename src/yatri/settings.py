"""One frozen Settings object, read from the environment and validated at start."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yatri import PROJECT_ROOT
from yatri.parsing import FieldError, whole_number

DEV_SECRET_KEY = "dev-only-secret-key-change-me"
GOOGLE_METADATA_URL = "https://accounts.google.com/.well-known/openid-configuration"
ENVIRONMENTS = ("development", "production")
_WHATSAPP = re.compile(r"[1-9][0-9]{7,14}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_VPA = re.compile(r"^[A-Za-z0-9.\-_]{2,256}@[A-Za-z][A-Za-z0-9]{1,63}$")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it and says what to do."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite://{PROJECT_ROOT / 'var' / 'yatri.sqlite3'}"
    secret_key: str = DEV_SECRET_KEY
    base_url: str = "http://127.0.0.1:8080"
    env: str = "development"
    cloudinary_url: str = ""
    smtp_url: str = ""
    mail_from: str = "Yatri <no-reply@yatri.example>"
    upi_vpa: str = "yatri.demo@okaxis"
    upi_payee_name: str = "Yatri Demo Travels"
    # The operator's contact on trip pages: a phone number as shown, a WhatsApp number in
    # international digits (wa.me links), an email address. Empty ones are left out.
    operator_phone: str = "+91 98765 43210"
    operator_whatsapp: str = "919876543210"
    operator_email: str = "hello@yatri.example"
    google_client_id: str = ""
    google_client_secret: str = ""
    oidc_metadata_url: str = GOOGLE_METADATA_URL
    timezone: str = "Asia/Kolkata"
    # A session ends after this long without a request, and in any case after max days.
    session_idle_minutes: int = 7 * 24 * 60
    session_max_days: int = 30
    # Origins allowed to call the JSON API from a browser, comma-separated in CORS_ORIGINS.
    cors_origins: tuple[str, ...] = ()
    var_dir: Path = field(default=PROJECT_ROOT / "var")
    # Booking: how long unpaid seats are held, and GST on the trip price (whole percent).
    hold_minutes: int = 15
    gst_percent: int = 5
    # Seats stay reserved this long once a UTR is submitted, while the operator verifies it.
    payment_verify_hours: int = 48
    razorpay_webhook_secret: str = ""
    # Requests per minute and client address: every /api/ request, and the costly form
    # posts (sign-up, booking, UTR submission). Over the limit: 429 with Retry-After.
    rate_limit_api_per_minute: int = 300
    rate_limit_forms_per_minute: int = 20
    # Reverse proxies (IPs or CIDRs, comma-separated in TRUSTED_PROXIES) whose
    # X-Forwarded-For names the client; from any other peer the header is ignored.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # /metrics answers a bearer METRICS_TOKEN, or clients from METRICS_ALLOW (IPs or CIDRs).
    metrics_token: str = ""
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ("127.0.0.1", "::1")
    # Jobs (services/jobs.py), in seconds: a failed job waits job_retry_seconds, doubled
    # each try up to job_retry_max_seconds (with jitter), and is dead after job_max_attempts
    # tries (about 5 hours with these). A claimed job is another worker's to retry once its
    # lease lapses (its worker died); a job runs at most job_lease_seconds. Idle workers
    # look for due jobs every job_poll_seconds (a change wakes its own process at once).
    job_retry_seconds: float = 30.0
    job_retry_max_seconds: float = 3600.0
    job_max_attempts: int = 12
    job_lease_seconds: float = 120.0
    job_poll_seconds: float = 1.0
    # Periodic jobs, once per interval across every process: expiring lapsed holds, and
    # deleting expired sessions, old login attempts and rate counters.
    expire_holds_every_seconds: float = 30.0
    clean_up_every_seconds: float = 900.0
    # Each SMTP step (connect, each command) waits at most this long.
    smtp_timeout_seconds: float = 15.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_url", _normalise_db_url(self.database_url))
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "trusted_proxies", tuple(_network("TRUSTED_PROXIES", entry) for entry in self.trusted_proxies))
        object.__setattr__(self, "metrics_allow", tuple(_network("METRICS_ALLOW", entry) for entry in self.metrics_allow))
        self._validate()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        names = {
            "database_url": "DATABASE_URL",
            "secret_key": "SECRET_KEY",
            "base_url": "BASE_URL",
            "env": "YATRI_ENV",
            "cloudinary_url": "CLOUDINARY_URL",
            "smtp_url": "SMTP_URL",
            "mail_from": "MAIL_FROM",
            "upi_vpa": "UPI_VPA",
            "upi_payee_name": "UPI_PAYEE_NAME",
            "operator_phone": "OPERATOR_PHONE",
            "operator_whatsapp": "OPERATOR_WHATSAPP",
            "operator_email": "OPERATOR_EMAIL",
            "google_client_id": "GOOGLE_CLIENT_ID",
            "google_client_secret": "GOOGLE_CLIENT_SECRET",
            "oidc_metadata_url": "OIDC_METADATA_URL",
            "timezone": "YATRI_TIMEZONE",
            "session_idle_minutes": "SESSION_IDLE_MINUTES",
            "session_max_days": "SESSION_MAX_DAYS",
            "cors_origins": "CORS_ORIGINS",
            "var_dir": "YATRI_VAR_DIR",
            "hold_minutes": "HOLD_MINUTES",
            "gst_percent": "GST_PERCENT",
            "payment_verify_hours": "PAYMENT_VERIFY_HOURS",
            "razorpay_webhook_secret": "RAZORPAY_WEBHOOK_SECRET",
            "rate_limit_api_per_minute": "RATE_LIMIT_API_PER_MINUTE",
            "rate_limit_forms_per_minute": "RATE_LIMIT_FORMS_PER_MINUTE",
            "trusted_proxies": "TRUSTED_PROXIES",
            "metrics_token": "METRICS_TOKEN",
            "metrics_allow": "METRICS_ALLOW",
            "job_retry_seconds": "JOB_RETRY_SECONDS",
            "job_retry_max_seconds": "JOB_RETRY_MAX_SECONDS",
            "job_max_attempts": "JOB_MAX_ATTEMPTS",
            "job_lease_seconds": "JOB_LEASE_SECONDS",
            "job_poll_seconds": "JOB_POLL_SECONDS",
            "expire_holds_every_seconds": "EXPIRE_HOLDS_EVERY_SECONDS",
            "clean_up_every_seconds": "CLEAN_UP_EVERY_SECONDS",
            "smtp_timeout_seconds": "SMTP_TIMEOUT_SECONDS",
        }
        values = {attr: env[name].strip() for attr, name in names.items() if env.get(name, "").strip()}
        if "var_dir" in values:
            values["var_dir"] = Path(values["var_dir"])
        if "cors_origins" in values:
            values["cors_origins"] = tuple(o.strip().rstrip("/") for o in values["cors_origins"].split(",") if o.strip())
        for networks in ("trusted_proxies", "metrics_allow"):
            if networks in values:
                values[networks] = tuple(p.strip() for p in values[networks].split(",") if p.strip())
        for attr, value in values.items():
            if isinstance(getattr(cls, attr, None), int):
                values[attr] = _whole_number(names[attr], value)
            elif isinstance(getattr(cls, attr, None), float):
                values[attr] = _seconds(names[attr], value)
        return cls(**values)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    def _validate(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"YATRI_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        scheme = urlsplit(self.database_url).scheme
        if scheme not in ("sqlite", "postgres"):
            raise SettingsError(
                "DATABASE_URL must start with sqlite:// or postgres:// "
                f"(got {scheme or 'no scheme'}://)"
            )
        base = urlsplit(self.base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise SettingsError(f"BASE_URL must be an absolute http(s) URL, not {self.base_url!r}")
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in ("smtp", "smtps"):
            raise SettingsError(f"SMTP_URL must start with smtp:// or smtps://, not {self.smtp_url!r}")
        cloudinary = urlsplit(self.cloudinary_url)
        if self.cloudinary_url and not (cloudinary.scheme == "cloudinary" and cloudinary.username and cloudinary.password and cloudinary.hostname):
            raise SettingsError("CLOUDINARY_URL must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        if self.upi_vpa and not _VPA.match(self.upi_vpa):
            raise SettingsError(f"UPI_VPA must look like name@bank, not {self.upi_vpa!r}")
        if self.operator_whatsapp and not _WHATSAPP.fullmatch(self.operator_whatsapp):
            raise SettingsError(f"OPERATOR_WHATSAPP takes the number in international digits, like 919876543210, not {self.operator_whatsapp!r}")
        if self.operator_email and not _EMAIL.fullmatch(self.operator_email):
            raise SettingsError(f"OPERATOR_EMAIL must be an email address, not {self.operator_email!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"YATRI_TIMEZONE {self.timezone!r} is not a known time zone") from None
        for origin in self.cors_origins:
            parts = urlsplit(origin)
            if origin == "*" or parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise SettingsError(f"CORS_ORIGINS takes full origins like https://app.example.com, not {origin!r}")
        if self.metrics_token and (len(self.metrics_token) < 16 or not self.metrics_token.isascii()):
            raise SettingsError("METRICS_TOKEN must be at least 16 ASCII characters (a long random value)")
        if self.production:
            self._validate_production(base.scheme)

    def _validate_production(self, base_scheme: str) -> None:
        if self.secret_key == DEV_SECRET_KEY:
            raise SettingsError("SECRET_KEY must be set to a long random value in production")
        if len(self.secret_key) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters in production")
        if base_scheme != "https":
            raise SettingsError(f"BASE_URL must use https in production, not {self.base_url!r}")


def _whole_number(name: str, value: str) -> int:
    try:
        return whole_number(value, 1)
    except FieldError:
        raise SettingsError(f"{name} must be a whole number above 0, not {value!r}") from None


_SECONDS = re.compile(r"[0-9]{1,7}(\.[0-9]{1,3})?")


def _seconds(name: str, value: str) -> float:
    if not _SECONDS.fullmatch(value) or float(value) <= 0:
        raise SettingsError(f"{name} must be a number of seconds above 0 like 30 or 0.5, not {value!r}")
    return float(value)


def _network(name: str, entry) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        raise SettingsError(f"{name} takes IP addresses or networks like 10.0.0.0/8, not {entry!r}") from None


def _normalise_db_url(url: str) -> str:
    # Tortoise names the PostgreSQL scheme postgres://; accept the common spellings.
    for alias in ("postgresql://", "asyncpg://"):
        if url.startswith(alias):
            return "postgres://" + url[len(alias) :]
    return url
