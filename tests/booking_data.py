"""A bookable departure and traveller details, for the booking tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from yatri.models import Departure, Destination, Trip, User
from yatri.services.booking import hold_seats
from yatri.services.travellers import TravellerInput

NOW = datetime.now(UTC)
TODAY = NOW.astimezone(ZoneInfo("Asia/Kolkata")).date()  # the operator's date, as the pages use
POLICY = [{"min_days": 30, "percent": 90}, {"min_days": 15, "percent": 50}, {"min_days": 0, "percent": 0}]


async def make_departure(*, capacity: int = 20, days_ahead: int = 40, price_rupees: int = 12_000, **trip) -> Departure:
    destination = await Destination.get_or_none(slug="manali") or await Destination.create(
        slug="manali", name="Manali", region="Himachal Pradesh"
    )
    n = await Trip.all().count() + 1
    fields = {
        "slug": f"hampta-pass-{n}", "title": "Hampta Pass", "kind": "trek", "destination": destination, "days": 5,
        "difficulty": "moderate", "price_paise": price_rupees * 100, "summary": "A high pass crossing.",
        "is_published": True, "cancellation_policy": POLICY, **trip,
    }  # fmt: skip
    made = await Trip.create(**fields)
    start = TODAY + timedelta(days=days_ahead)
    departure = await Departure.create(trip=made, starts_on=start, ends_on=start + timedelta(days=4), capacity=capacity)
    departure.trip = made
    return departure


def lead(**changes) -> TravellerInput:
    fields = {
        "full_name": "Asha Rao", "age": 31, "gender": "female", "phone": "+919876543210", "email": "asha@example.com",
        "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "+919812345678", **changes,
    }  # fmt: skip
    return TravellerInput(**fields)


def companion(name: str = "Meera Iyer", age: int = 29) -> TravellerInput:
    return TravellerInput(full_name=name, age=age)


def form_for(travellers: list[dict[str, str]]) -> dict[str, str]:
    """The flat booking form (`t1-full_name`, ...) for these travellers."""
    return {f"t{n}-{key}": value for n, t in enumerate(travellers, start=1) for key, value in t.items()}


LEAD_FORM = {
    "full_name": "Asha Rao", "age": "31", "gender": "female", "phone": "98765 43210", "email": "Asha@Example.com",
    "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "98123 45678",
}  # fmt: skip
COMPANION_FORM = {"full_name": "Meera Iyer", "age": "29", "gender": "", "phone": "", "email": "",
                  "emergency_contact_name": "", "emergency_contact_phone": ""}  # fmt: skip


async def hold(user: User, departure: Departure, count: int = 2, *, now: datetime = NOW, today: date = TODAY, key=None):
    travellers = [lead(), *(companion(f"Companion {n}") for n in range(2, count + 1))]
    return await hold_seats(
        user, departure.id, travellers, idempotency_key=key, now=now, today=today, hold_minutes=15,
    )
