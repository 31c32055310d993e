"""Trips and destinations as the operator changes them: find, create, change fields, publish.

Every change is one transaction that locks the row, checks for a conflicting edit, writes
the new values, one audit row per changed field (`data={"before": ..., "after": ...}`)
and bumps the catalogue version (cache invalidation). Several fields change together or
not at all: a refusal of any one of them (its rule, a taken web address, a conflict)
leaves every field as it was.

Optimistic locking: a form carries the record's `version` when the form was drawn and a
`base` per field, a short fingerprint of the field's value as the operator saw it. A save
with a stale version still goes through for a field that has not changed since (someone
edited another field); otherwise it raises `EditConflict`, which names who changed the
record and carries both values, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from yatri.errors import Conflict, NotFound, ValidationError
from yatri.models import Destination, Trip, User
from yatri.parsing import FieldError, record_id, single_line
from yatri.services import audit
from yatri.services.admin_catalogue.forms import TRIPS, DestinationValues, Entity, TripValues, display, fingerprint, given, stored
from yatri.services.catalogue import bump_version
from yatri.services.locks import locked

STATUSES = {"all": "All", "published": "Published", "draft": "Drafts"}
Values = TripValues | DestinationValues


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


@dataclass(frozen=True)
class Seen:
    """What the operator's change was drawn from: the record's version and, by field name
    (or `itinerary`), the fingerprint of the value they saw."""

    version: int
    bases: Mapping[str, str] = field(default_factory=dict)


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


# ---------------------------------------------------------------- what itinerary and gallery share


def locked_record(entity: Entity, record_id: int) -> AbstractAsyncContextManager[Model]:
    """A transaction holding the record's lock."""
    return locked(entity.model, f"There is no such {entity.noun}.", id=record_id)


async def check_conflict(entity: Entity, record: Model, name: str, label: str, seen: Seen | None, yours: str) -> None:
    if seen is None or seen.version == record.version:
        return
    current = stored(entity, record, name)
    if fingerprint(current) == seen.bases.get(name):
        return  # another field changed: this one is as the operator saw it
    await record.fetch_related(*entity.related)
    by = record.updated_by.name if record.updated_by else "Someone"
    theirs = display(entity, record, name) if name in entity.fields else f"{len(current)} items"
    raise EditConflict(field=name, label=label, by=by, theirs=theirs, yours=yours, version=record.version)


async def save(entity: Entity, record: Model, after: dict[str, Any], actor: User) -> None:
    """Write the new column values as one new version by `actor` (the caller writes the audit)."""
    for column, value in after.items():
        setattr(record, column, value)
    record.version += 1
    record.updated_by = actor
    try:
        await record.save()
    except IntegrityError:
        raise ValidationError({"slug": _slug_taken(entity, new=False)}) from None
    await bump_version()


# ---------------------------------------------------------------- rules


def _slug_taken(entity: Entity, *, new: bool) -> str:
    return f"Another {entity.noun} already uses this web address" + (": choose another." if new else ".")


def slugify(title: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))[:80].strip("-")


async def checked(entity: Entity, values: Values, *, new: bool = False) -> dict[str, Any]:
    """The given values as stored, by column, each by its field's rule; every problem at
    once (ValidationError by field name). A new record without a web address gets one
    made from its title or name, and a new record's web address must be free."""
    if new and values.slug is None:
        values = replace(values, slug=slugify(getattr(values, entity.heading) or ""))
    clean, errors = {}, {}
    for column, value in given(values).items():
        spec = entity.of_column(column)
        try:
            clean[column] = spec.check(value)
        except FieldError as exc:
            errors[spec.name] = str(exc)
    if "destination_id" in clean and not await Destination.exists(id=clean["destination_id"]):
        errors["destination"] = "Pick a destination from the list."
    if new and "slug" in clean and await entity.model.exists(slug=clean["slug"]):
        errors["slug"] = _slug_taken(entity, new=True)
    if errors:
        raise ValidationError(errors)
    return clean


# ---------------------------------------------------------------- writing


def with_site_rate(entity: Entity, values: Values, gst_percent: int) -> Values:
    """A new trip without its own GST rate takes the site's (the GST_PERCENT setting)."""
    if entity is TRIPS and values.gst_percent is None:
        return replace(values, gst_percent=gst_percent)
    return values


async def create(entity: Entity, values: Values, actor: User) -> Model:
    """A new record (unpublished for trips) from its required fields; every bad field at once."""
    clean = await checked(entity, values, new=True)
    missing = {name: "This field is required." for name in entity.required if entity.field(name).column not in clean}
    if missing:
        raise ValidationError(missing)
    async with in_transaction():
        try:
            record = await entity.model.create(**clean, updated_by=actor)
        except IntegrityError:
            raise ValidationError({"slug": _slug_taken(entity, new=True)}) from None
        await audit.record(entity.name, record.id, "create", actor=actor, data={"before": None, "after": clean})
        await bump_version()
    return await get(entity, record.id)


async def _destination_name(destination_id: int) -> str:
    destination = await Destination.get(id=destination_id)
    return destination.name


async def update_fields(entity: Entity, record_id: int, values: Values, seen: Seen | None, actor: User) -> Model:
    """Change the given fields together, in one transaction under the record's lock, or none
    of them; one audit row per changed field. Unchanged values write nothing."""
    clean = await checked(entity, values)
    async with locked_record(entity, record_id) as record:
        changes = {}
        for column, value in clean.items():
            before = stored(entity, record, entity.of_column(column).name)
            if before == value:  # saving what is already there is never a conflict
                continue
            spec = entity.of_column(column)
            yours = await _destination_name(value) if column == "destination_id" else spec.show(value)
            await check_conflict(entity, record, spec.name, spec.label, seen, yours)
            changes[column] = before
        if "slug" in changes and await entity.model.filter(slug=clean["slug"]).exclude(id=record.id).exists():
            raise ValidationError({"slug": _slug_taken(entity, new=False)})
        if changes:
            await save(entity, record, {column: clean[column] for column in changes}, actor)
            for column, before in changes.items():
                data = {"before": {column: before}, "after": {column: clean[column]}}
                await audit.record(entity.name, record.id, "edit", actor=actor, data=data)
    return await get(entity, record_id)


async def set_published(trip_id: int, published: bool, actor: User) -> Trip:
    async with locked_record(TRIPS, trip_id) as trip:
        if trip.is_published != published:
            states = ("draft", "published")
            await save(TRIPS, trip, {"is_published": published}, actor)
            await audit.record(
                "trip", trip.id, "publish" if published else "unpublish", states[not published], states[published],
                actor=actor, data={"before": {"is_published": not published}, "after": {"is_published": published}},
            )  # fmt: skip
    return await get(TRIPS, trip_id)
