"""Bookings: references and seat accounting."""

from __future__ import annotations

import secrets

# No 0/O or 1/I, so a reference read out over the phone is not misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_reference() -> str:
    return "YT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
