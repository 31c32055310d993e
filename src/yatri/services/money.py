"""Money: integer paise in the database and in every rule, rupees only at the edges.
Every conversion between the two is here, used by web/, api/ and services/ alike."""

from __future__ import annotations

import re
from decimal import Decimal

from yatri.parsing import FieldError

PAISE_PER_RUPEE = 100
_RUPEES = re.compile(r"([0-9]{1,18})(?:\.([0-9]{1,2}))?")


def rupees(paise: int) -> str:
    """12345678 paise -> '₹1,23,456.78' (Indian digit grouping; whole rupees drop the paise)."""
    whole, _, fraction = f"{Decimal(paise) / PAISE_PER_RUPEE:.2f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    grouped = ",".join([*groups, tail])
    return f"{sign}₹{grouped}" + ("" if fraction == "00" else f".{fraction}")


def amount_text(paise: int) -> str:
    """12345 paise -> '123.45': exact, from integers (never a float), as UPI links take it."""
    return f"{paise // PAISE_PER_RUPEE}.{paise % PAISE_PER_RUPEE:02d}"


def rupees_text(amount_paise: int) -> str:
    """Paise as the rupees a form shows and takes back ('9950', '9950.5'; `parse_rupees` reads it)."""
    return f"{Decimal(amount_paise) / PAISE_PER_RUPEE:f}"


def paise_of(whole_rupees: int) -> int:
    return whole_rupees * PAISE_PER_RUPEE


def parse_rupees(raw: object, max_rupees: int, message: str = "") -> int:
    """Rupees as typed ('9,950', '₹9950' or '9950.50') to integer paise, above 0."""
    value = str(raw).strip().removeprefix("₹").replace(",", "").strip() if isinstance(raw, str) else ""
    match = _RUPEES.fullmatch(value)
    return paise_amount(paise_of(int(match[1])) + int((match[2] or "0").ljust(2, "0")) if match else 0, max_rupees, message)


def paise_amount(amount: object, max_rupees: int, message: str = "") -> int:
    """An amount already in integer paise (as the API takes it): above 0, at most `max_rupees` rupees."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise FieldError(message or "Enter a price in rupees above 0, like 9950 or 9950.50.")
    if amount > paise_of(max_rupees):
        raise FieldError(f"Enter a price up to {max_rupees:,} rupees.")
    return amount
