"""The /trips query string (the page's and the API's) read into `TripFilters`.

Text that cannot be read as its type (a date that is no date, a price that is no number)
is left out with its message here; `catalogue.check_filters` judges the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from yatri.parsing import MAX_ID, FieldError, optional_day, optional_number, single_line
from yatri.services.catalogue import PAGE_MESSAGE, PRICE_MESSAGE, TripFilters, check_filters


def _rupees(raw: str) -> int | None:
    return optional_number(raw.replace(",", ""), 0, MAX_ID, PRICE_MESSAGE)


def _page(raw: str) -> int | None:
    return optional_number(raw, 0, MAX_ID, PAGE_MESSAGE)


# Query parameter -> (TripFilters attribute, how its text is read)
_TYPED = {"from": ("date_from", optional_day), "to": ("date_to", optional_day), "min_price": ("min_price", _rupees),
          "max_price": ("max_price", _rupees), "page": ("page", _page)}  # fmt: skip


def parse_filters(params: Mapping[str, str], destination_slugs: Iterable[str]) -> tuple[TripFilters, dict[str, str]]:
    """The usable filters and a message per invalid one (left out, shown next to it)."""
    values: dict[str, Any] = {"q": single_line(params.get("q", ""))}
    values.update({name: params.get(name, "").strip() for name in ("destination", "kind", "difficulty", "sort")})
    values["sort"] = values["sort"] or "next"
    errors: dict[str, str] = {}
    for name, (attr, parse) in _TYPED.items():
        try:
            values[attr] = parse(params.get(name, ""))
        except FieldError as exc:
            errors[name] = str(exc)
    filters, problems = check_filters(TripFilters(**{k: v for k, v in values.items() if v is not None}), destination_slugs)
    return filters, {**problems, **errors}
