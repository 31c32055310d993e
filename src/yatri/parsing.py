"""Numbers, dates and one-line text that people type or put in a URL: parsed here, once.

`str.isdigit()` is true for '²', '٣' and full-width digits, `int()` takes some of them, and
`int()` of a 5,000-digit string raises: so a number is ASCII digits of bounded length first,
then a value within its field's bounds. Dates are `YYYY-MM-DD` within the years below, so
that date arithmetic and time zones never overflow. Every refusal is a `FieldError` whose
message is shown next to the field (or `NotFound` for an id in a path). Rupees typed into
a form are parsed by `services.money.parse_rupees`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TypeVar

from yatri.errors import NotFound

_D = TypeVar("_D")
MAX_ID = 2**31 - 1  # PostgreSQL `integer`: every id and version column
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
_WHOLE = re.compile(r"[0-9]{1,18}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE = re.compile(r"\+?[0-9]{10,15}")
EMAIL_MAX_LENGTH = 254  # users.email, travellers.email


class FieldError(ValueError):
    """A typed value that breaks the field's rule; the message is shown next to the field."""


def single_line(raw: object) -> str:
    """Typed text on one line: control characters (a NUL breaks PostgreSQL text, a lone
    surrogate cannot be encoded) become spaces, runs of spaces one."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(raw or "")).split())


def is_email(text: str) -> bool:
    """One address with a dot in its domain, within the column: the same rule for
    accounts and travellers."""
    return len(text) <= EMAIL_MAX_LENGTH and text.isprintable() and _EMAIL.fullmatch(text) is not None


def phone_number(raw: str) -> str:
    """'+91 98765-43210' -> '+919876543210': the digits as stored (check with is_phone)."""
    return re.sub(r"[\s\-().]", "", raw)


def is_phone(text: str) -> bool:
    """10 to 15 digits, after an optional '+' (as `phone_number` stores them)."""
    return _PHONE.fullmatch(text) is not None


def whole_number(raw: object, low: int = 0, high: int = MAX_ID, message: str = "") -> int:
    """ASCII digits (spaces around allowed) for a whole number in [low, high]."""
    value = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    if not _WHOLE.fullmatch(value) or not low <= int(value) <= high:
        raise FieldError(message or f"Enter a whole number from {low:,} to {high:,}.")
    return int(value)


def optional_number(raw: object, low: int = 0, high: int = MAX_ID, message: str = "") -> int | None:
    """As `whole_number`, but empty (or missing) is None."""
    return None if raw is None or str(raw).strip() == "" else whole_number(raw, low, high, message)


def number_or(raw: object, default: _D, low: int = 0, high: int = MAX_ID) -> int | _D:
    """As `whole_number`, but anything refused is `default` (a page number, a hidden field)."""
    try:
        return whole_number(raw, low, high)
    except FieldError:
        return default


def record_id(raw: object, noun: str = "record") -> int:
    """An id from a path or a form: 1 to MAX_ID, else NotFound (nothing can have it)."""
    try:
        return whole_number(raw, 1, MAX_ID)
    except FieldError:
        raise NotFound(f"There is no such {noun}.") from None


def day(raw: object, label: str = "") -> date:
    """A `YYYY-MM-DD` date (or a `date`) from FIRST_DAY to LAST_DAY; `label` names it in the message."""
    value = raw.isoformat() if type(raw) is date else str(raw).strip() if isinstance(raw, str) else ""
    try:
        parsed = date.fromisoformat(value) if _DAY.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise FieldError(f"Enter the {label} as a date, like 2027-03-14." if label else "Enter a date like 2027-03-14.")
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise FieldError(f"Enter {f'the {label}' if label else 'a date'} from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")
    return parsed


def optional_day(raw: object, label: str = "") -> date | None:
    return None if raw is None or str(raw).strip() == "" else day(raw, label)
