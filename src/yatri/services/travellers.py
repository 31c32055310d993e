"""Traveller details typed into the booking form: checked here, once, for every client.

A booking form holds one block of fields per traveller; errors are keyed
`t<position>-<field>` (`t1-age`) so each message sits next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from yatri.errors import ValidationError
from yatri.parsing import is_email, is_phone, number_or, phone_number, single_line

FIELDS = ("full_name", "age", "gender", "phone", "email", "emergency_contact_name", "emergency_contact_phone")
GENDERS = {"": "Prefer not to say", "female": "Female", "male": "Male", "other": "Other"}
MIN_AGE, MAX_AGE = 1, 100


@dataclass(frozen=True)
class TravellerInput:
    full_name: str
    age: int
    gender: str | None = None
    phone: str | None = None
    email: str | None = None
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def saved_details(traveller) -> dict:
    """A saved Traveller row's details, by the same field names as the form."""
    return {name: getattr(traveller, name) for name in FIELDS}


def validate_travellers(raw: list[Mapping[str, object]]) -> list[TravellerInput]:
    """Check every traveller; the first is the lead, who gives a phone, an email and the
    booking's emergency contact. Raises one ValidationError with every message."""
    errors: dict[str, str] = {}
    travellers = []
    for n, fields in enumerate(raw, start=1):
        travellers.append(_traveller(n, fields, errors))
    if errors:
        raise ValidationError(errors, "Please check the traveller details.")
    return travellers


def _traveller(n: int, fields: Mapping[str, object], errors: dict[str, str]) -> TravellerInput | None:
    def err(field: str, message: str) -> None:
        errors[f"t{n}-{field}"] = message

    name = single_line(fields.get("full_name"))
    if len(name) < 2:
        err("full_name", "Enter the traveller's full name, as on their ID.")
    elif len(name) > 120:
        err("full_name", "Use at most 120 characters for the name.")
    age = number_or(single_line(fields.get("age")), None, MIN_AGE, MAX_AGE)
    if age is None:
        err("age", f"Enter the age in whole years, from {MIN_AGE} to {MAX_AGE}.")
    gender = single_line(fields.get("gender")).lower()
    if gender not in GENDERS:
        err("gender", "Choose one of the listed options.")
    lead = n == 1
    phone = phone_number(single_line(fields.get("phone")))
    if (lead or phone) and not is_phone(phone):
        err("phone", "Enter a mobile number of 10 to 15 digits, e.g. 98765 43210 or +91 98765 43210.")
    email = single_line(fields.get("email")).lower()
    if (lead or email) and not is_email(email):
        err("email", "Enter an email address like name@example.com.")
    contact = single_line(fields.get("emergency_contact_name"))
    contact_phone = phone_number(single_line(fields.get("emergency_contact_phone")))
    if lead and len(contact) < 2:
        err("emergency_contact_name", "Enter someone we can call in an emergency.")
    elif len(contact) > 120:
        err("emergency_contact_name", "Use at most 120 characters for the name.")
    if (lead or contact_phone) and not is_phone(contact_phone):
        err("emergency_contact_phone", "Enter the emergency contact's number, 10 to 15 digits.")
    if any(key.startswith(f"t{n}-") for key in errors):
        return None
    return TravellerInput(
        full_name=name,
        age=age,
        gender=gender or None,
        phone=phone or None,
        email=email or None,
        emergency_contact_name=contact or None,
        emergency_contact_phone=contact_phone or None,
    )
