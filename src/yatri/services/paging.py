"""One page of a long list: the rows, where they sit in the whole, and the page links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.queryset import QuerySet


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


async def paginate(query: QuerySet, number: int, per_page: int) -> Page:
    total = await query.count()
    rows = await query.offset((number - 1) * per_page).limit(per_page)
    return Page(list(rows), number, per_page, total)
