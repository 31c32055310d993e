"""The operator's side of the catalogue: create and edit trips and destinations, one field
at a time, publish, edit itineraries and manage images.

Every change is one transaction that locks the row, checks for a conflicting edit,
writes the new value, one audit row (`data={"before": ..., "after": ...}`) and bumps the
catalogue version (cache invalidation).

Optimistic locking: a form carries the record's `version` when the form was drawn and a
`base`, a short fingerprint of the field's value as the operator saw it. A save with a
stale version still goes through if that field has not changed since (someone edited
another field); otherwise it raises `EditConflict`, which names who changed the record
and carries both values, and nothing is written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import Destination, Difficulty, Trip, TripKind, User
from yatri.parsing import MAX_ID, FieldError, number_or, record_id, single_line, whole_number
from yatri.services import audit
from yatri.services.booking import MAX_SEATS
from yatri.services.catalogue import bump_version
from yatri.services.locks import locked
from yatri.services.media import MediaStore
from yatri.services.money import parse_rupees, rupees, rupees_text

MAX_PRICE_RUPEES = 10_000_000
MAX_DAYS = 60
MAX_ITINERARY_TEXT = 2000
STATUSES = {"all": "All", "published": "Published", "draft": "Drafts"}
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class EditConflict(Conflict):
    """Someone else saved a different value of this field since the form was drawn."""

    title = "Changed by someone else"
    problem = "edit-conflict"

    def __init__(self, *, field: str, label: str, by: str, theirs: str, yours: str, version: int) -> None:
        super().__init__(
            f"{by} changed the {label.lower()} while you were editing. Theirs: {theirs}. Yours: {yours}. "
            "Save again to keep yours, or cancel to keep theirs.",
            field=field,
        )
        self.label = label
        self.by = by
        self.theirs = theirs
        self.yours = yours
        self.version = version


# ---------------------------------------------------------------- field rules


def _clean(raw: str) -> str:
    return "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in raw).strip()


def text(label: str, max_length: int, *, required: bool = True, multiline: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = _clean(raw) if multiline else single_line(raw)
        if required and not value:
            raise FieldError(f"Enter the {label.lower()}.")
        if len(value) > max_length:
            raise FieldError(f"Use at most {max_length:,} characters (this is {len(value):,}).")
        return value

    return parse


def parse_slug(raw: str) -> str:
    value = raw.strip().lower()
    if not value:
        raise FieldError("Enter the web address, like hampta-pass-trek.")
    if len(value) > 80 or not _SLUG.match(value):
        raise FieldError("Use lower-case letters, digits and single hyphens, like hampta-pass-trek (at most 80).")
    return value


def whole_numbers(low: int, high: int) -> Callable[[str], int]:
    return functools.partial(whole_number, low=low, high=high)


def parse_price(raw: str) -> int:
    """Rupees as typed ('9,950' or '9950.50') to paise."""
    return parse_rupees(raw, MAX_PRICE_RUPEES)


def choice(options: type) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        if value not in {o.value for o in options}:
            raise FieldError("Pick one from the list.")
        return value

    return parse


def parse_flag(raw: str) -> bool:
    return raw.strip().lower() in ("on", "1", "true", "yes")


def parse_lines(raw: str) -> list[str]:
    lines = [" ".join(line.split()) for line in _clean(raw).splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 30 or any(len(line) > 200 for line in lines):
        raise FieldError("Use at most 30 lines of at most 200 characters each.")
    return lines


_TIER = re.compile(r"^([0-9]{1,3})\s*(?:days?)?\s*[:=]\s*([0-9]{1,3})\s*%?$")


def parse_policy(raw: str) -> list[dict]:
    """Lines like '30: 90' (cancel 30 or more days before departure: 90% back)."""
    tiers = []
    for line in parse_lines(raw):
        match = _TIER.match(line)
        if not match or int(match.group(2)) > 100:
            raise FieldError(f"Write each line as days: percent, like 30: 90 (not “{line}”).")
        tiers.append({"min_days": int(match.group(1)), "percent": int(match.group(2))})
    if len({t["min_days"] for t in tiers}) != len(tiers):
        raise FieldError("Each number of days may appear once.")
    return sorted(tiers, key=lambda t: -t["min_days"])


def show_policy(tiers: list[dict]) -> str:
    return "; ".join(f"{t['min_days']}+ days: {t['percent']}%" for t in tiers) or "No refunds"


@dataclass(frozen=True)
class Field:
    """One editable attribute: how it is typed, parsed, shown and put back into a form."""

    name: str
    label: str
    parse: Callable[[str], Any]
    widget: str = "text"  # text | textarea | number | select | checkbox | lines
    attr: str = ""
    show: Callable[[Any], str] = str
    form_value: Callable[[Any], str] = str
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""

    @property
    def column(self) -> str:
        return self.attr or self.name


def _lines_text(value: list[str]) -> str:
    return "\n".join(value)


def _policy_text(tiers: list[dict]) -> str:
    return "\n".join(f"{t['min_days']}: {t['percent']}" for t in tiers)


def _options(enum: type) -> tuple[tuple[str, str], ...]:
    return tuple((e.value, e.value.capitalize()) for e in enum)


TRIP_FIELDS = {f.name: f for f in (
    Field("title", "Title", text("Title", 160)),
    Field("slug", "Web address", parse_slug, hint="Lower-case words joined by hyphens: /trips/<this>."),
    Field("kind", "Type", choice(TripKind), "select", choices=_options(TripKind), show=str.capitalize),
    Field("destination", "Destination", whole_numbers(1, MAX_ID), "select", attr="destination_id"),
    Field("days", "Days", whole_numbers(1, MAX_DAYS), "number"),
    Field("difficulty", "Difficulty", choice(Difficulty), "select", choices=_options(Difficulty), show=str.capitalize),
    Field("price", "Price per person (₹)", parse_price, "text", attr="price_paise", show=rupees,
          form_value=lambda amount: rupees_text(amount).removesuffix(".00"), hint="In rupees, like 9950."),
    Field("summary", "Summary", text("Summary", 300), "textarea"),
    Field("description", "Description", text("Description", 10_000, required=False, multiline=True), "textarea"),
    Field("inclusions", "Included", parse_lines, "lines", show=lambda v: ", ".join(v) or "—", form_value=_lines_text,
          hint="One item a line."),
    Field("exclusions", "Not included", parse_lines, "lines", show=lambda v: ", ".join(v) or "—", form_value=_lines_text,
          hint="One item a line."),
    Field("cancellation_policy", "Cancellation policy", parse_policy, "lines", show=show_policy, form_value=_policy_text,
          hint="One tier a line: days before departure: percent refunded, like 30: 90."),
    Field("max_per_booking", "Most seats in one booking", whole_numbers(1, MAX_SEATS), "number"),
    Field("featured", "Featured on the home page", parse_flag, "checkbox", show=lambda v: "Yes" if v else "No",
          form_value=lambda v: "on" if v else ""),
)}  # fmt: skip

DESTINATION_FIELDS = {f.name: f for f in (
    Field("name", "Name", text("Name", 120)),
    Field("slug", "Web address", parse_slug, hint="Lower-case words joined by hyphens: /destinations/<this>."),
    Field("region", "Region", text("Region", 120)),
    Field("description", "Description", text("Description", 10_000, required=False, multiline=True), "textarea"),
)}  # fmt: skip

TRIP_REQUIRED = ("title", "slug", "kind", "destination", "days", "difficulty", "price", "summary")
DESTINATION_REQUIRED = ("name", "slug", "region", "description")


@dataclass(frozen=True)
class Entity:
    name: str  # audit entity and URL segment
    model: type[Model]
    fields: dict[str, Field]
    required: tuple[str, ...]
    noun: str
    related: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            raise NotFound(f"A {self.noun} has no field {name!r}.") from None


TRIPS = Entity("trip", Trip, TRIP_FIELDS, TRIP_REQUIRED, "trip", ("destination", "updated_by"))
DESTINATIONS = Entity("destination", Destination, DESTINATION_FIELDS, DESTINATION_REQUIRED, "destination", ("updated_by",))


def fingerprint(value: Any) -> str:
    """A short, stable hash of a field's value: the `base` a form sends back."""
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str).encode(), digest_size=8).hexdigest()


def display(entity: Entity, record: Model, name: str) -> str:
    """A field's value as the admin pages show it (trips need `destination` fetched)."""
    spec = entity.field(name)
    if entity is TRIPS and name == "destination":
        return record.destination.name
    return spec.show(getattr(record, spec.column))


def form_value(entity: Entity, record: Model, name: str) -> str:
    spec = entity.field(name)
    return spec.form_value(getattr(record, spec.column))


def base(entity: Entity, record: Model, name: str) -> str:
    """The `base` a form for this field (or `itinerary`) sends back."""
    column = entity.fields[name].column if name in entity.fields else name
    return fingerprint(_plain(getattr(record, column)))


def _plain(value: Any) -> Any:
    """Model values as JSON: enums become their strings."""
    return value.value if isinstance(value, TripKind | Difficulty) else value


# ---------------------------------------------------------------- reading


async def get(entity: Entity, raw_id: int | str) -> Model:
    record = await entity.model.get_or_none(id=record_id(raw_id, entity.noun)).prefetch_related(*entity.related)
    if record is None:
        raise NotFound(f"There is no such {entity.noun}.")
    return record


async def list_trips(q: str = "", status: str = "all") -> list[Trip]:
    query = Trip.all().prefetch_related("destination")
    words = single_line(q)[:100]
    if words:
        query = query.filter(Q(title__icontains=words) | Q(slug__icontains=words) | Q(destination__name__icontains=words))
    if status == "published":
        query = query.filter(is_published=True)
    elif status == "draft":
        query = query.filter(is_published=False)
    return await query.order_by("title")


async def list_destinations(q: str = "") -> list[Destination]:
    query = Destination.all()
    words = single_line(q)[:100]
    if words:
        query = query.filter(Q(name__icontains=words) | Q(region__icontains=words) | Q(slug__icontains=words))
    return await query.order_by("name")


# ---------------------------------------------------------------- writing


def _locked(entity: Entity, record_id: int) -> AbstractAsyncContextManager[Model]:
    """A transaction holding the record's lock."""
    return locked(entity.model, f"There is no such {entity.noun}.", id=record_id)


@dataclass(frozen=True)
class Seen:
    """What the operator's form was drawn from: the record's version and the field's fingerprint."""

    version: int
    base: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Seen:
        return cls(number_or(form.get("version", ""), 0), str(form.get("base", "")))


async def _check_conflict(entity: Entity, record: Model, name: str, label: str, seen: Seen | None, yours: str) -> None:
    if seen is None or seen.version == record.version:
        return
    current = _plain(getattr(record, entity.fields[name].column if name in entity.fields else name))
    if fingerprint(current) == seen.base:
        return  # another field changed: this one is as the operator saw it
    await record.fetch_related(*entity.related)
    by = record.updated_by.name if record.updated_by else "Someone"
    theirs = display(entity, record, name) if name in entity.fields else f"{len(current)} items"
    raise EditConflict(field=name, label=label, by=by, theirs=theirs, yours=yours, version=record.version)


async def _save(entity: Entity, record: Model, column: str, before: Any, after: Any, actor: User, action: str) -> None:
    setattr(record, column, after)
    record.version += 1
    record.updated_by = actor
    try:
        await record.save()
    except IntegrityError:
        raise ValidationError({"slug": f"Another {entity.noun} already uses this web address."}) from None
    await audit.record(entity.name, record.id, action, actor=actor, data={"before": {column: before}, "after": {column: after}})
    await bump_version()


async def _check_unique_slug(entity: Entity, slug: str, record_id: int | None = None) -> None:
    query = entity.model.filter(slug=slug)
    if record_id is not None:
        query = query.exclude(id=record_id)
    if await query.exists():
        raise ValidationError({"slug": f"Another {entity.noun} already uses this web address."})


async def _parse(entity: Entity, name: str, raw: str) -> Any:
    try:
        value = entity.field(name).parse(raw)
    except FieldError as exc:
        raise ValidationError({name: str(exc)}) from None
    if entity is TRIPS and name == "destination" and not await Destination.exists(id=value):
        raise ValidationError({name: "Pick a destination from the list."})
    return value


async def update_field(entity: Entity, record_id: int, name: str, raw: str, seen: Seen | None, actor: User) -> Model:
    """Save one field typed by the operator; unchanged values write nothing."""
    spec = entity.field(name)
    value = await _parse(entity, name, raw)
    async with _locked(entity, record_id) as record:
        before = _plain(getattr(record, spec.column))
        if before != value:  # saving what is already there is never a conflict
            yours = await _destination_name(value) if spec.column == "destination_id" else spec.show(value)
            await _check_conflict(entity, record, name, spec.label, seen, yours)
            if name == "slug":
                await _check_unique_slug(entity, value, record.id)
            await _save(entity, record, spec.column, before, value, actor, "edit")
    return await get(entity, record_id)


async def _destination_name(destination_id: int) -> str:
    destination = await Destination.get(id=destination_id)
    return destination.name


def slugify(title: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))[:80].strip("-")


async def create(entity: Entity, form: Mapping[str, str], actor: User) -> Model:
    """A new record from the create form (unpublished for trips); every bad field is reported at once."""
    raw = {name: str(form.get(name, "")) for name in entity.required}
    if not raw["slug"].strip():
        raw["slug"] = slugify(raw.get("title") or raw.get("name") or "")
    values, errors = {}, {}
    for name in entity.required:
        try:
            values[entity.fields[name].column] = await _parse(entity, name, raw[name])
        except ValidationError as exc:
            errors.update(exc.errors)
    if "slug" in values and await entity.model.exists(slug=values["slug"]):
        errors["slug"] = f"Another {entity.noun} already uses this web address: choose another."
    if errors:
        raise ValidationError(errors)
    async with in_transaction():
        try:
            record = await entity.model.create(**values, updated_by=actor)
        except IntegrityError:
            raise ValidationError({"slug": f"Another {entity.noun} already uses this web address: choose another."}) from None
        after = {k: _plain(v) for k, v in values.items()}
        await audit.record(entity.name, record.id, "create", actor=actor, data={"before": None, "after": after})
        await bump_version()
    return await get(entity, record.id)


async def set_published(trip_id: int, published: bool, actor: User) -> Trip:
    async with _locked(TRIPS, trip_id) as trip:
        if trip.is_published != published:
            states = ("draft", "published")
            trip.is_published = published
            trip.version += 1
            trip.updated_by = actor
            await trip.save()
            await audit.record(
                "trip", trip.id, "publish" if published else "unpublish", states[not published], states[published],
                actor=actor, data={"before": {"is_published": not published}, "after": {"is_published": published}},
            )  # fmt: skip
            await bump_version()
    return await get(TRIPS, trip_id)


# ---------------------------------------------------------------- itinerary


def _numbered(days: list[dict]) -> list[dict]:
    return [{"day": n, "title": d["title"], "details": d["details"]} for n, d in enumerate(days, 1)]


def _day(title: str, details: str) -> dict:
    errors = {}
    try:
        title = text("Title", 160)(title)
    except FieldError as exc:
        errors["day_title"] = str(exc)
    try:
        details = text("Details", MAX_ITINERARY_TEXT, required=False, multiline=True)(details)
    except FieldError as exc:
        errors["day_details"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return {"title": title, "details": details}


def _index(days: list[dict], day: int) -> int:
    if not 1 <= day <= len(days):
        raise NotFound("That day is not in the itinerary any more.")
    return day - 1


async def change_itinerary(trip_id: int, op: str, seen: Seen | None, actor: User, *, day: int = 0,
                           title: str = "", details: str = "") -> Trip:  # fmt: skip
    """`op` is add, edit, up, down or remove; days are numbered 1..n again afterwards."""
    if op not in ("add", "edit", "up", "down", "remove"):
        raise NotFound("Unknown itinerary action.")
    if op in ("add", "edit"):
        entry = _day(title, details)
    async with _locked(TRIPS, trip_id) as trip:
        await _check_conflict(TRIPS, trip, "itinerary", "Itinerary", seen, "your change to the days")
        before = list(trip.itinerary)
        days = [dict(d) for d in before]
        if op == "add":
            days.append(entry)
        elif op == "edit":
            days[_index(days, day)] = entry
        elif op in ("up", "down"):
            i = _index(days, day)
            j = i - 1 if op == "up" else i + 1
            if 0 <= j < len(days):
                days[i], days[j] = days[j], days[i]
        else:
            days.pop(_index(days, day))
        after = _numbered(days)
        if after != before:
            await _save(TRIPS, trip, "itinerary", before, after, actor, f"itinerary_{op}")
    return await get(TRIPS, trip_id)


# ---------------------------------------------------------------- images


async def _image_in_use(image_id: str) -> bool:
    for model in (Trip, Destination):
        for images in await model.all().values_list("images", flat=True):
            if any(image.get("id") == image_id for image in images or []):
                return True
    return False


async def _change_images(entity: Entity, record_id: int, change: Callable[[list[dict]], list[dict]],
                         actor: User, action: str) -> tuple[Model, list[dict]]:  # fmt: skip
    """Apply `change` to the image list; returns the record and the images it dropped."""
    async with _locked(entity, record_id) as record:
        before = list(record.images)
        after = change([dict(i) for i in before])
        if after != before:
            setattr(record, "images", after)
            record.version += 1
            record.updated_by = actor
            await record.save()
            ids = lambda images: [i["id"] for i in images]  # noqa: E731 - the audit keeps ids, not URLs
            await audit.record(entity.name, record.id, action, actor=actor, data={"before": {"images": ids(before)}, "after": {"images": ids(after)}})
            await bump_version()
    kept = {i["id"] for i in after}
    return record, [i for i in before if i["id"] not in kept]


def _position(images: list[dict], image_id: str) -> int:
    for n, image in enumerate(images):
        if image["id"] == image_id:
            return n
    raise NotFound("That image is not in the gallery any more.")


async def add_image(entity: Entity, record_id: int, data: bytes, alt: str, store: MediaStore, actor: User) -> Model:
    await get(entity, record_id)  # a missing record is reported before anything is uploaded
    try:
        alt = text("Description", 200, required=False)(alt)
    except FieldError as exc:
        raise ValidationError({"alt": str(exc)}) from None
    image = await store.store(data, alt=alt)

    def append(images: list[dict]) -> list[dict]:
        if any(i["id"] == image["id"] for i in images):
            raise ValidationError({"image": "This photo is already in the gallery."})
        return [*images, image]

    try:
        await _change_images(entity, record_id, append, actor, "image_add")
    except Exception:
        if not await _image_in_use(image["id"]):
            await store.delete(image)
        raise
    return await get(entity, record_id)


async def move_image(entity: Entity, record_id: int, image_id: str, step: int, actor: User) -> Model:
    """Move an image one place earlier (step -1) or later (+1); `step` 0 makes it the cover."""

    def move(images: list[dict]) -> list[dict]:
        i = _position(images, image_id)
        image = images.pop(i)
        images.insert(0 if step == 0 else max(0, min(len(images), i + step)), image)
        return images

    await _change_images(entity, record_id, move, actor, "image_cover" if step == 0 else "image_move")
    return await get(entity, record_id)


async def delete_image(entity: Entity, record_id: int, image_id: str, store: MediaStore, actor: User) -> Model:
    def drop(images: list[dict]) -> list[dict]:
        i = _position(images, image_id)
        return images[:i] + images[i + 1 :]

    _, dropped = await _change_images(entity, record_id, drop, actor, "image_delete")
    for image in dropped:  # after the commit; the same photo may also be on another page
        if not await _image_in_use(image["id"]):
            await store.delete(image)
    return await get(entity, record_id)
