"""The fields of trips and destinations: each field's rule on its typed value, how the
admin form's text becomes that value, and how the pages show it and put it back into a form.

A rule (`Field.check`) takes the typed value (an int, a list of lines, `RefundTier`s, a
bool) and returns it as stored, or raises `FieldError` with the message shown next to the
field. `Field.parse` reads the form's text into the typed value; for text and whole
numbers that is the rule itself, which reads text as well. The services run the rules on
every value they are given; the typed values come from the form (`parse`) or the API.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from tortoise.models import Model

from yatri.errors import NotFound
from yatri.models import Destination, Difficulty, Trip, TripKind
from yatri.parsing import MAX_ID, FieldError, single_line, whole_number
from yatri.services.booking import MAX_SEATS
from yatri.services.catalogue import MAX_PRICE_RUPEES
from yatri.services.money import paise_amount, parse_rupees, rupees, rupees_text

MAX_DAYS = 60
MAX_GST_PERCENT = 28  # the highest GST slab
MAX_GROUP_PERCENT = 90
MAX_LINES, MAX_LINE = 30, 200
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TIER = re.compile(r"^([0-9]{1,3})\s*(?:days?)?\s*[:=]\s*([0-9]{1,3})\s*%?$")


@dataclass(frozen=True)
class RefundTier:
    """Cancel `min_days` or more days before departure: `percent` of the price back."""

    min_days: int
    percent: int

    @property
    def valid(self) -> bool:
        return 0 <= self.min_days <= 999 and 0 <= self.percent <= 100


@dataclass(frozen=True)
class GroupTier:
    """`min_travellers` or more in one booking: `percent` off the price before GST."""

    min_travellers: int
    percent: int

    @property
    def valid(self) -> bool:
        return 2 <= self.min_travellers <= MAX_SEATS and 1 <= self.percent <= MAX_GROUP_PERCENT


@dataclass(frozen=True)
class TripValues:
    """Typed values of a trip's fields, by column; None leaves a field as it is."""

    title: str | None = None
    slug: str | None = None
    kind: TripKind | None = None
    destination_id: int | None = None
    days: int | None = None
    difficulty: Difficulty | None = None
    price_paise: int | None = None
    gst_percent: int | None = None
    summary: str | None = None
    description: str | None = None
    inclusions: list[str] | None = None
    exclusions: list[str] | None = None
    cancellation_policy: list[RefundTier] | None = None
    group_discounts: list[GroupTier] | None = None
    max_per_booking: int | None = None
    featured: bool | None = None


@dataclass(frozen=True)
class DestinationValues:
    """Typed values of a destination's fields; None leaves a field as it is."""

    name: str | None = None
    slug: str | None = None
    region: str | None = None
    description: str | None = None


def given(values: TripValues | DestinationValues) -> dict[str, Any]:
    """The values that are set, by column."""
    return {f.name: getattr(values, f.name) for f in fields(values) if getattr(values, f.name) is not None}


# ---------------------------------------------------------------- rules


def _clean(raw: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in raw).strip()


def text(label: str, max_length: int, *, required: bool = True, multiline: bool = False) -> Callable[[str], str]:
    def check(raw: str) -> str:
        value = _clean(raw) if multiline else single_line(raw)
        if required and not value:
            raise FieldError(f"Enter the {label.lower()}.")
        if len(value) > max_length:
            raise FieldError(f"Use at most {max_length:,} characters (this is {len(value):,}).")
        return value

    return check


def check_slug(raw: str) -> str:
    value = raw.strip().lower()
    if not value:
        raise FieldError("Enter the web address, like hampta-pass-trek.")
    if len(value) > 80 or not _SLUG.match(value):
        raise FieldError("Use lower-case letters, digits and single hyphens, like hampta-pass-trek (at most 80).")
    return value


def whole_numbers(low: int, high: int) -> Callable[[object], int]:
    return functools.partial(whole_number, low=low, high=high)


def check_price(amount: int) -> int:
    return paise_amount(amount, MAX_PRICE_RUPEES)


def choice(options: type) -> Callable[[str], str]:
    def check(raw: str) -> str:
        value = str(raw).strip()
        if value not in {o.value for o in options}:
            raise FieldError("Pick one from the list.")
        return value

    return check


def check_flag(value: bool) -> bool:
    if not isinstance(value, bool):
        raise FieldError("This field must be true or false.")
    return value


def check_lines(items: list[str]) -> list[str]:
    lines = [" ".join(_clean(item).split()) for item in items]
    lines = [line for line in lines if line]
    if len(lines) > MAX_LINES or any(len(line) > MAX_LINE for line in lines):
        raise FieldError(f"Use at most {MAX_LINES} lines of at most {MAX_LINE} characters each.")
    return lines


def _tier_message(line: str) -> str:
    return f"Write each line as days: percent, like 30: 90 (not “{line}”)."


def check_policy(tiers: list[RefundTier]) -> list[dict]:
    """Refund tiers as stored: most days first, each number of days once."""
    for tier in tiers:
        if not tier.valid:
            raise FieldError(_tier_message(f"{tier.min_days}: {tier.percent}"))
    if len({t.min_days for t in tiers}) != len(tiers):
        raise FieldError("Each number of days may appear once.")
    return [{"min_days": t.min_days, "percent": t.percent} for t in sorted(tiers, key=lambda t: -t.min_days)]


def _group_message(line: str) -> str:
    return (f"Write each line as travellers: percent off, like 6: 10 (6 or more travellers get 10% off), "
            f"from 2 to {MAX_SEATS} travellers and 1 to {MAX_GROUP_PERCENT}% (not “{line}”).")  # fmt: skip


def check_group_tiers(tiers: list[GroupTier]) -> list[dict]:
    """Group rates as stored: fewest travellers first, each number of travellers once."""
    for tier in tiers:
        if not tier.valid:
            raise FieldError(_group_message(f"{tier.min_travellers}: {tier.percent}"))
    if len({t.min_travellers for t in tiers}) != len(tiers):
        raise FieldError("Each number of travellers may appear once.")
    return [{"min_travellers": t.min_travellers, "percent": t.percent} for t in sorted(tiers, key=lambda t: t.min_travellers)]


def show_group_tiers(tiers: list[dict]) -> str:
    return "; ".join(f"{t['min_travellers']}+ travellers: {t['percent']}% off" for t in tiers) or "None"


def show_policy(tiers: list[dict]) -> str:
    return "; ".join(f"{t['min_days']}+ days: {t['percent']}%" for t in tiers) or "No refunds"


# ---------------------------------------------------------------- form text


def parse_flag(raw: str) -> bool:
    return raw.strip().lower() in ("on", "1", "true", "yes")


def parse_lines(raw: str) -> list[str]:
    return check_lines(_clean(raw).splitlines())


def parse_policy(raw: str) -> list[RefundTier]:
    """Lines like '30: 90' (cancel 30 or more days before departure: 90% back)."""
    tiers = []
    for line in parse_lines(raw):
        match = _TIER.match(line)
        tier = RefundTier(int(match.group(1)), int(match.group(2))) if match else None
        if tier is None or not tier.valid:
            raise FieldError(_tier_message(line))
        tiers.append(tier)
    return tiers


def parse_group_tiers(raw: str) -> list[GroupTier]:
    """Lines like '6: 10' (6 or more travellers in one booking: 10% off)."""
    tiers = []
    for line in parse_lines(raw):
        match = _TIER.match(line)
        tier = GroupTier(int(match.group(1)), int(match.group(2))) if match else None
        if tier is None or not tier.valid:
            raise FieldError(_group_message(line))
        tiers.append(tier)
    return tiers


def parse_price(raw: str) -> int:
    """Rupees as typed ('9,950' or '9950.50') to paise."""
    return parse_rupees(raw, MAX_PRICE_RUPEES)


@dataclass(frozen=True)
class Field:
    """One editable attribute: its rule, how it is typed, shown and put back into a form."""

    name: str  # the form's field, the URL segment and the key of its message
    label: str
    check: Callable[[Any], Any]
    widget: str = "text"  # text | textarea | number | select | checkbox | lines
    attr: str = ""
    show: Callable[[Any], str] = str
    form_value: Callable[[Any], str] = str
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    from_text: Callable[[str], Any] | None = None  # the form's text to the typed value, when `check` cannot read it

    @property
    def column(self) -> str:
        return self.attr or self.name

    def parse(self, raw: str) -> Any:
        """The form's text as this field's typed value (FieldError when it cannot be)."""
        return (self.from_text or self.check)(raw)


def _lines_text(value: list[str]) -> str:
    return "\n".join(value)


def _policy_text(tiers: list[dict]) -> str:
    return "\n".join(f"{t['min_days']}: {t['percent']}" for t in tiers)


def _group_text(tiers: list[dict]) -> str:
    return "\n".join(f"{t['min_travellers']}: {t['percent']}" for t in tiers)


def _options(enum: type) -> tuple[tuple[str, str], ...]:
    return tuple((e.value, e.value.capitalize()) for e in enum)


def _list_field(name: str, label: str) -> Field:
    return Field(name, label, check_lines, "lines", show=lambda v: ", ".join(v) or "—", form_value=_lines_text,
                 hint="One item a line.", from_text=parse_lines)  # fmt: skip


TRIP_FIELDS = {f.name: f for f in (
    Field("title", "Title", text("Title", 160)),
    Field("slug", "Web address", check_slug, hint="Lower-case words joined by hyphens: /trips/<this>."),
    Field("kind", "Type", choice(TripKind), "select", choices=_options(TripKind), show=str.capitalize),
    Field("destination", "Destination", whole_numbers(1, MAX_ID), "select", attr="destination_id"),
    Field("days", "Days", whole_numbers(1, MAX_DAYS), "number"),
    Field("difficulty", "Difficulty", choice(Difficulty), "select", choices=_options(Difficulty), show=str.capitalize),
    Field("price", "Price per person (₹)", check_price, "text", attr="price_paise", show=rupees,
          form_value=rupees_text, hint="In rupees before GST, like 9950.", from_text=parse_price),
    Field("gst_percent", "GST rate (%)", whole_numbers(0, MAX_GST_PERCENT), "number", show=lambda v: f"{v}%",
          hint="Whole percent; travellers see the price with it. Tours 5, events may differ."),
    Field("summary", "Summary", text("Summary", 300), "textarea"),
    Field("description", "Description", text("Description", 10_000, required=False, multiline=True), "textarea"),
    _list_field("inclusions", "Included"),
    _list_field("exclusions", "Not included"),
    Field("cancellation_policy", "Cancellation policy", check_policy, "lines", show=show_policy, form_value=_policy_text,
          hint="One tier a line: days before departure: percent refunded, like 30: 90.", from_text=parse_policy),
    Field("group_discounts", "Group rates", check_group_tiers, "lines", show=show_group_tiers, form_value=_group_text,
          hint="One tier a line: travellers in one booking: percent off before GST, like 6: 10.", from_text=parse_group_tiers),
    Field("max_per_booking", "Most seats in one booking", whole_numbers(1, MAX_SEATS), "number"),
    Field("featured", "Featured on the home page", check_flag, "checkbox", show=lambda v: "Yes" if v else "No",
          form_value=lambda v: "on" if v else "", from_text=parse_flag),
)}  # fmt: skip

DESTINATION_FIELDS = {f.name: f for f in (
    Field("name", "Name", text("Name", 120)),
    Field("slug", "Web address", check_slug, hint="Lower-case words joined by hyphens: /destinations/<this>."),
    Field("region", "Region", text("Region", 120)),
    Field("description", "Description", text("Description", 10_000, required=False, multiline=True), "textarea"),
)}  # fmt: skip


@dataclass(frozen=True)
class Entity:
    name: str  # audit entity and URL segment
    model: type[Model]
    fields: dict[str, Field]
    required: tuple[str, ...]
    noun: str
    values: type[TripValues] | type[DestinationValues]
    heading: str  # the field that names a record (and makes its web address)
    related: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            raise NotFound(f"A {self.noun} has no field {name!r}.") from None

    def of_column(self, column: str) -> Field:
        return next(f for f in self.fields.values() if f.column == column)


TRIP_REQUIRED = ("title", "slug", "kind", "destination", "days", "difficulty", "price", "summary")
DESTINATION_REQUIRED = ("name", "slug", "region", "description")
TRIPS = Entity("trip", Trip, TRIP_FIELDS, TRIP_REQUIRED, "trip", TripValues, "title", ("destination", "updated_by"))
DESTINATIONS = Entity("destination", Destination, DESTINATION_FIELDS, DESTINATION_REQUIRED, "destination", DestinationValues, "name", ("updated_by",))


# ---------------------------------------------------------------- what forms and pages show


def fingerprint(value: Any) -> str:
    """A short, stable hash of a field's value: the `base` a form sends back."""
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()


def plain(value: Any) -> Any:
    """Model values as JSON: enums become their strings."""
    return value.value if isinstance(value, TripKind | Difficulty) else value


def stored(entity: Entity, record: Model, name: str) -> Any:
    """A field's (or `itinerary`'s) value on the record, as JSON."""
    return plain(getattr(record, entity.fields[name].column if name in entity.fields else name))


def base(entity: Entity, record: Model, name: str) -> str:
    """The `base` a form for this field (or `itinerary`) sends back."""
    return fingerprint(stored(entity, record, name))


def display(entity: Entity, record: Model, name: str) -> str:
    """A field's value as the admin pages show it (trips need `destination` fetched)."""
    spec = entity.field(name)
    if entity is TRIPS and name == "destination":
        return record.destination.name
    return spec.show(getattr(record, spec.column))


def form_value(entity: Entity, record: Model, name: str) -> str:
    spec = entity.field(name)
    return spec.form_value(getattr(record, spec.column))
