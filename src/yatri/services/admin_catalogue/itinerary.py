"""A trip's itinerary as the operator edits it: add, edit, move and remove days.

Days are numbered 1..n again after every change. A change drawn from an older itinerary
than the saved one (someone else changed the days meanwhile) is an `EditConflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from yatri.errors import NotFound, ValidationError
from yatri.models import Trip, User
from yatri.parsing import FieldError
from yatri.services import audit
from yatri.services.admin_catalogue.forms import TRIPS, text
from yatri.services.admin_catalogue.records import Seen, check_conflict, get, locked_record, save

MAX_ITINERARY_TEXT = 2000


class DayChange(StrEnum):
    ADD = "add"
    EDIT = "edit"
    UP = "up"
    DOWN = "down"
    REMOVE = "remove"


@dataclass(frozen=True)
class Day:
    """One day's title and details (what `add` and `edit` write)."""

    title: str = ""
    details: str = ""


def _entry(day: Day) -> dict:
    errors = {}
    try:
        title = text("Title", 160)(day.title)
    except FieldError as exc:
        errors["day_title"] = str(exc)
    try:
        details = text("Details", MAX_ITINERARY_TEXT, required=False, multiline=True)(day.details)
    except FieldError as exc:
        errors["day_details"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return {"title": title, "details": details}


def _numbered(days: list[dict]) -> list[dict]:
    return [{"day": n, "title": d["title"], "details": d["details"]} for n, d in enumerate(days, 1)]


def _index(days: list[dict], day: int) -> int:
    if not 1 <= day <= len(days):
        raise NotFound("That day is not in the itinerary any more.")
    return day - 1


def _changed(days: list[dict], change: DayChange, number: int, entry: dict | None) -> list[dict]:
    if change is DayChange.ADD:
        return [*days, entry]
    i = _index(days, number)
    if change is DayChange.EDIT:
        days[i] = entry
    elif change is DayChange.REMOVE:
        days.pop(i)
    else:
        j = i - 1 if change is DayChange.UP else i + 1
        if 0 <= j < len(days):
            days[i], days[j] = days[j], days[i]
    return days


async def change_itinerary(trip_id: int, change: DayChange, seen: Seen | None, actor: User, *, number: int = 0,
                           day: Day | None = None) -> Trip:  # fmt: skip
    """Add `day`, write it over day `number`, move day `number` up or down, or remove it."""
    entry = _entry(day or Day()) if change in (DayChange.ADD, DayChange.EDIT) else None
    async with locked_record(TRIPS, trip_id) as trip:
        await check_conflict(TRIPS, trip, "itinerary", "Itinerary", seen, "your change to the days")
        before = list(trip.itinerary)
        after = _numbered(_changed([dict(d) for d in before], change, number, entry))
        if after != before:
            await save(TRIPS, trip, {"itinerary": after}, actor)
            data = {"before": {"itinerary": before}, "after": {"itinerary": after}}
            await audit.record("trip", trip.id, f"itinerary_{change}", actor=actor, data=data)
    return await get(TRIPS, trip_id)
