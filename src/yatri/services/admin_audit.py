"""The audit log as the operator reads it: who changed what and when, before and after.

Rows keep their changes in two shapes: catalogue, departure and user edits store
`data = {"before": {...}, "after": {...}}`; bookings and payments move between states
(`from_state` -> `to_state`). Both become a list of `Change`s here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.queryset import QuerySet

from yatri.models import AuditLog, User
from yatri.services.paging import Page, paginate

PER_PAGE = 50
MAX_VALUE = 300


@dataclass(frozen=True)
class Change:
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    log: AuditLog
    changes: list[Change]
    details: list[tuple[str, str]]


@dataclass(frozen=True)
class AuditFilters:
    entity: str = ""
    entity_id: str = ""
    action: str = ""
    actor: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def query_params(self) -> dict[str, str]:
        params = {"entity": self.entity, "id": self.entity_id, "action": self.action,
                  "actor": str(self.actor or ""), "from": _iso(self.date_from), "to": _iso(self.date_to)}  # fmt: skip
        return {key: value for key, value in params.items() if value}


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _query(filters: AuditFilters, zone: ZoneInfo) -> QuerySet:
    query = AuditLog.all()
    if filters.entity:
        query = query.filter(entity=filters.entity)
    if filters.entity_id:
        query = query.filter(entity_id=filters.entity_id)
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.actor is not None:
        query = query.filter(actor_id=filters.actor)
    if filters.date_from:
        query = query.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=zone))
    if filters.date_to:
        query = query.filter(created_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone))
    return query


async def search(filters: AuditFilters, zone: ZoneInfo, page: int = 1) -> Page:
    """Matching rows, newest first, as `Entry`s."""
    query = _query(filters, zone).select_related("actor").order_by("-created_at", "-id")
    found = await paginate(query, page, PER_PAGE)
    return Page([entry(log) for log in found.rows], found.number, found.per_page, found.total)


@dataclass(frozen=True)
class Choices:
    entities: list[str]
    actions: list[str]
    actors: list[User] = field(default_factory=list)


async def choices(entity: str = "") -> Choices:
    """What the filter lists offer: entities, actions (of `entity` when given), actors.
    (Each DISTINCT query names its own order: PostgreSQL refuses the model's default one.)"""
    entities = sorted(set(await AuditLog.all().order_by("entity").distinct().values_list("entity", flat=True)))
    actions_query = AuditLog.filter(entity=entity) if entity else AuditLog.all()
    actions = sorted(set(await actions_query.order_by("action").distinct().values_list("action", flat=True)))
    actor_ids = set(await AuditLog.filter(actor_id__isnull=False).order_by("actor_id").distinct().values_list("actor_id", flat=True))
    actors = list(await User.filter(id__in=actor_ids).order_by("name", "id")) if actor_ids else []
    return Choices(entities, actions, actors)


# ---------------------------------------------------------------- reading one row


def show(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def entry(log: AuditLog) -> Entry:
    data = log.data if isinstance(log.data, dict) else {"data": log.data}
    changes = []
    if log.from_state or log.to_state:
        changes.append(Change("status", show(log.from_state), show(log.to_state)))
    before, after = data.get("before"), data.get("after")
    if isinstance(before, dict | type(None)) and isinstance(after, dict | type(None)) and (before or after):
        before, after = before or {}, after or {}
        for name in [*before, *(k for k in after if k not in before)]:
            if (before.get(name), after.get(name)) != (log.from_state, log.to_state):  # said already as the status
                changes.append(Change(name, show(before.get(name)), show(after.get(name))))
        rest = {k: v for k, v in data.items() if k not in ("before", "after")}
    else:
        rest = data
    return Entry(log, changes, [(key, show(value)) for key, value in rest.items()])
