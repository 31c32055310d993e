"""The catalogue: what travellers can browse, search and filter.

Search is one function for both databases: every word of `q` must appear, in any case,
in the trip's title, summary or description or in its destination's name or region.
It uses `UPPER(..) LIKE UPPER(..)` (Tortoise's `icontains`, with LIKE wildcards escaped)
on SQLite and PostgreSQL alike, so both give the same results for the same data.

Catalogue queries are cached per process in a `QueryCache`, keyed by the version number
in the `catalogue_version` row: any change to the catalogue calls `bump_version()` in its
transaction, and every process drops its cache when it sees a new number.
Seats are never cached: they change with every booking.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, RawSQL, Subquery
from tortoise.functions import Count

from yatri.errors import NotFound
from yatri.models import CatalogueVersion, Departure, Destination, Difficulty, Trip, TripKind
from yatri.parsing import FieldError, optional_day, optional_number, whole_number
from yatri.services import booking, pricing
from yatri.services.events import announce
from yatri.services.money import paise_of
from yatri.services.seats import left_of, seats_taken_by_departure

PAGE_SIZE = 10
MAX_DESTINATION_CHOICES = 24  # the /trips destination filter and the home page's list
MAX_DESTINATION_TRIPS = 60  # a destination page lists at most this many (its first, by next departure)
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 8
MAX_PAGE = 1000
MAX_PRICE_RUPEES = 10_000_000
SORTS = {
    "next": "Next departure",
    "price": "Price, low to high",
    "price_desc": "Price, high to low",
    "duration": "Duration, short to long",
}
_VERSION_ROW = 1
CATALOGUE_EVENT = "catalogue"  # services/events: announced by bump_version


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class TripFilters:
    """Validated filters of `/trips`. Prices are in whole rupees, as the traveller types them."""

    q: str = ""
    destination: str = ""
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None
    min_price: int | None = None
    max_price: int | None = None
    difficulty: str = ""
    sort: str = "next"
    page: int = 1

    def key(self) -> tuple:
        return (
            " ".join(_words(self.q)).upper(), self.destination, self.kind, self.date_from, self.date_to,
            self.min_price, self.max_price, self.difficulty, self.sort,
        )  # fmt: skip

    def query_params(self, **changes: Any) -> dict[str, str]:
        """The filters as URL query parameters (empty ones left out), e.g. for page links."""
        values = {
            "q": self.q, "destination": self.destination, "kind": self.kind,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "min_price": "" if self.min_price is None else str(self.min_price),
            "max_price": "" if self.max_price is None else str(self.max_price),
            "difficulty": self.difficulty, "sort": "" if self.sort == "next" else self.sort,
            "page": "" if self.page == 1 else str(self.page),
        }  # fmt: skip
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


PRICE_MESSAGE = f"Enter a price in whole rupees, from 0 to {MAX_PRICE_RUPEES:,}, like 5000."
PAGE_MESSAGE = "That page number is not valid, so here is the first page."


def check_filters(filters: TripFilters, destination_slugs: Iterable[str]) -> tuple[TripFilters, dict[str, str]]:
    """The usable filters and a message per filter that breaks its rule: such a filter is
    left out (the traveller still sees results) and its message is shown next to it."""
    errors: dict[str, str] = {}
    dropped: dict[str, Any] = {}

    def drop(name: str, attr: str, message: str) -> None:
        errors[name], dropped[attr] = message, getattr(TripFilters(), attr)

    if len(filters.q) > MAX_QUERY_LENGTH:
        drop("q", "q", f"Search text is too long: use at most {MAX_QUERY_LENGTH} characters.")
    if filters.destination and filters.destination not in set(destination_slugs):
        drop("destination", "destination", "We do not know that destination. Pick one from the list.")
    for name, choices, label in (("kind", TripKind, "trip type"), ("difficulty", Difficulty, "difficulty")):
        if getattr(filters, name) and getattr(filters, name) not in {c.value for c in choices}:
            drop(name, name, f"Pick a {label} from the list.")
    for name, attr in (("from", "date_from"), ("to", "date_to")):
        try:
            optional_day(getattr(filters, attr))
        except FieldError as exc:
            drop(name, attr, str(exc))
    date_from, date_to = (dropped.get(a, getattr(filters, a)) for a in ("date_from", "date_to"))
    if date_from and date_to and date_from > date_to:
        drop("to", "date_to", "The “to” date must be on or after the “from” date.")
    for name in ("min_price", "max_price"):
        try:
            optional_number(getattr(filters, name), 0, MAX_PRICE_RUPEES, PRICE_MESSAGE)
        except FieldError as exc:
            drop(name, name, str(exc))
    low, high = (dropped.get(a, getattr(filters, a)) for a in ("min_price", "max_price"))
    if low is not None and high is not None and low > high:
        drop("max_price", "max_price", "The highest price must be at least the lowest price.")
    if filters.sort not in SORTS:
        drop("sort", "sort", "Pick a sort order from the list.")
    try:
        whole_number(filters.page, 1, MAX_PAGE)
    except FieldError:
        drop("page", "page", PAGE_MESSAGE)
    return replace(filters, **dropped), errors


def _words(q: str) -> list[str]:
    return q.split()[:MAX_QUERY_WORDS]


# ---------------------------------------------------------------- cache and version


class DatabaseVersion:
    """The catalogue version as the `catalogue_version` row says: one small query per
    request, right across processes without anything else."""

    async def current(self) -> int:
        return await current_version()


class EventVersion:
    """The catalogue version kept in memory, moved by the `catalogue` event that
    `bump_version` announces (services/events: every process gets it as the edit
    commits, by PostgreSQL NOTIFY) and by a resync, when events may have been missed.
    No query per request; the numbers are this process's own."""

    def __init__(self, events) -> None:
        self.number = 1
        self.stop = events.on({CATALOGUE_EVENT}, self.moved)

    def moved(self, _event=None) -> None:
        self.number += 1

    async def current(self) -> int:
        return self.number


class QueryCache:
    """Results of catalogue queries for one process, dropped when the catalogue version moves.

    Bounded (least recently used entries go first), so odd filter combinations cannot
    grow it without limit. `source` says what the version is now (`DatabaseVersion`, or a
    number kept in memory and moved by events); `version` is the one last synced.
    """

    def __init__(self, max_entries: int = 512, source: DatabaseVersion | EventVersion | None = None) -> None:
        self.max_entries = max_entries
        self.source = source or DatabaseVersion()
        self.version: int | None = None
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def sync(self) -> None:
        """Read the catalogue version and drop everything if it moved.

        Each public function of this module calls it once before using the cache.
        """
        version = await self.source.current()
        if version != self.version:
            self._entries.clear()
            self.version = version

    async def get(self, key: tuple, compute: Callable[[], Awaitable[Any]]) -> Any:
        if self.version is None:
            await self.sync()
        if key in self._entries:
            self._entries.move_to_end(key)
            self.hits += 1
            return self._entries[key]
        self.misses += 1
        version = self.version
        value = await compute()
        # A change may have landed while we computed: keep the value only if still current.
        if await self.source.current() == version == self.version:
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


async def current_version() -> int:
    row = await CatalogueVersion.filter(id=_VERSION_ROW).values_list("version", flat=True)
    return row[0] if row else 0


async def bump_version() -> int:
    """Mark the catalogue as changed: every process's query cache is dropped.

    Call it inside the transaction that changes destinations, trips or departures, so
    the new number becomes visible exactly when the change does; the `catalogue` event
    (services/events) goes out as it commits.
    """
    await announce("catalogue")
    updated = await CatalogueVersion.filter(id=_VERSION_ROW).update(version=F("version") + 1)
    if not updated:
        try:
            await CatalogueVersion.create(id=_VERSION_ROW, version=1)
        except IntegrityError:  # another process created it first
            await CatalogueVersion.filter(id=_VERSION_ROW).update(version=F("version") + 1)
    return await current_version()


async def _cached(cache: QueryCache | None, key: tuple, compute: Callable[[], Awaitable[Any]]) -> Any:
    return await compute() if cache is None else await cache.get(key, compute)


async def _sync(cache: QueryCache | None) -> None:
    if cache is not None:
        await cache.sync()


# ---------------------------------------------------------------- seats


class SaleState(StrEnum):
    """How a listed departure sells: what its badge says and whether it can be booked."""

    AVAILABLE = "available"
    FILLING_FAST = "filling_fast"
    SOLD_OUT = "sold_out"
    CLOSED = "closed"


@dataclass
class DepartureView:
    """A departure as a traveller sees it: dates, price, seats left and its state."""

    departure: Departure
    seats_left: int

    @property
    def state(self) -> SaleState:
        if self.departure.sales_closed:
            return SaleState.CLOSED
        if self.seats_left <= 0:
            return SaleState.SOLD_OUT
        if self.seats_left <= max(3, self.departure.capacity // 5):
            return SaleState.FILLING_FAST
        return SaleState.AVAILABLE

    @property
    def state_label(self) -> str:
        labels = {"sold_out": "Sold out", "filling_fast": "Filling fast", "available": "Available", "closed": "Booking closed"}
        return labels[self.state]

    @property
    def bookable(self) -> bool:
        return self.seats_left > 0 and not self.departure.sales_closed

    @property
    def price_paise(self) -> int:
        """Per person, GST included: what the traveller pays."""
        return pricing.departure_price(self.departure)


async def _departure_views(departures: list[Departure], now: datetime) -> list[DepartureView]:
    """The one place the catalogue computes seats left; the rule lives in `seats`."""
    taken = await seats_taken_by_departure([d.id for d in departures], now)
    return [DepartureView(d, left_of(d, taken[d.id])) for d in departures]


# ---------------------------------------------------------------- search


@dataclass
class TripCard:
    trip: Trip
    next_departure: date | None

    @property
    def price_paise(self) -> int:
        """Per person, GST included: what the card shows and /trips sorts by."""
        return pricing.trip_price(self.trip)


@dataclass
class SearchResult:
    filters: TripFilters
    cards: list[TripCard]
    total: int
    page: int
    pages: int
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * PAGE_SIZE, self.total)


async def all_destinations(cache: QueryCache | None = None) -> list[Destination]:
    """Every destination, by name (the API's list)."""
    await _sync(cache)
    return await _cached(cache, ("destinations",), lambda: Destination.all().order_by("name"))


async def destination_choices(requested: str = "", cache: QueryCache | None = None) -> list[Destination]:
    """What the /trips filter offers: the busiest destinations and the `requested` one
    (a destination filter in the address) when it exists, by name. The list keeps its size
    however many destinations the catalogue has; the others are found by search text."""
    await _sync(cache)
    choices = [d for d, _ in await _cached(cache, ("busiest-destinations",), _busiest_destinations)]
    if requested and requested not in {d.slug for d in choices} and is_slug(requested, 80):
        extra = await _cached(cache, ("destination", requested), lambda: Destination.get_or_none(slug=requested))
        choices = sorted([*choices, extra], key=lambda d: d.name) if extra else choices
    return choices


async def _busiest_destinations() -> list[tuple[Destination, int]]:
    """At most MAX_DESTINATION_CHOICES destinations with the most published trips, by name,
    with their trip counts."""
    counts = dict(
        await Trip.filter(is_published=True)
        .annotate(n=Count("id"))
        .group_by("destination_id")
        .order_by("-n", "destination_id")
        .limit(MAX_DESTINATION_CHOICES)
        .values_list("destination_id", "n")
    )
    return [(d, counts[d.id]) for d in await Destination.filter(id__in=list(counts)).order_by("name")]


async def search_trips(
    filters: TripFilters, today: date, cache: QueryCache | None = None, *, synced: bool = False
) -> SearchResult:
    """Published trips matching `filters`, sorted, one page of them.

    The database counts the matches and sorts and cuts the page (LIMIT/OFFSET), so the
    work is bounded by the page, not the catalogue. Pass `synced=True` when this request
    already called `cache.sync()`.
    """
    if not synced:
        await _sync(cache)
    total = await _cached(cache, ("count", today, filters.key()), lambda: _filter_query(filters, today).count())
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(filters.page, pages)
    cards = await _cached(cache, ("page", today, filters.key(), page), lambda: _page_cards(filters, today, (page - 1) * PAGE_SIZE, PAGE_SIZE))
    return SearchResult(filters, cards, total, page, pages)


async def _page_cards(filters: TripFilters, today: date, offset: int, limit: int) -> list[TripCard]:
    ordered = await _page_ids(filters, today, offset, limit)
    trips = await _trips_by_id([i for i, _ in ordered])
    return [TripCard(trips[i], next_on) for i, next_on in ordered if i in trips]


def _filter_query(filters: TripFilters, today: date):
    query = Trip.filter(is_published=True)
    for word in _words(filters.q):
        query = query.filter(
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(description__icontains=word)
            | Q(destination__name__icontains=word)
            | Q(destination__region__icontains=word)
        )
    if filters.destination:
        query = query.filter(destination__slug=filters.destination)
    if filters.kind:
        query = query.filter(kind=filters.kind)
    if filters.difficulty:
        query = query.filter(difficulty=filters.difficulty)
    if filters.min_price is not None or filters.max_price is not None or filters.sort in ("price", "price_desc"):
        query = query.annotate(shown_price=pricing.trip_price_sql())  # the price with GST, as the cards show it
    if filters.min_price is not None:
        query = query.filter(shown_price__gte=paise_of(filters.min_price))
    if filters.max_price is not None:
        query = query.filter(shown_price__lte=paise_of(filters.max_price))
    if filters.date_from or filters.date_to:
        runs = Departure.filter(booking.listed_departures(today), starts_on__gte=filters.date_from or today)
        if filters.date_to:
            runs = runs.filter(starts_on__lte=filters.date_to)
        query = query.filter(id__in=Subquery(runs.values("trip_id")))
    return query


_ORDER = {
    "next": ("next_key", "title", "id"),
    "price": ("shown_price", "title", "id"),
    "price_desc": ("-shown_price", "title", "id"),
    "duration": ("days", "title", "id"),
}
_NO_DEPARTURE = "9999-12-31"  # sorts trips without a next departure last, on both databases


def _next_departure_sql(today: date) -> str:
    """The trip's next listed departure (booking.listed_departures) as a correlated
    subquery: one seek per trip on departures (trip_id, starts_on), the unique index."""
    return (
        "(SELECT MIN(d.starts_on) FROM departures d WHERE d.trip_id = trips.id"
        f" AND d.starts_on > '{today.isoformat()}' AND d.cancelled_at IS NULL)"
    )


def sorted_query(filters: TripFilters, today: date):
    """The matching trips in the requested order (tests/test_indexes.py explains it)."""
    query = _filter_query(filters, today)
    if filters.sort == "next":
        query = query.annotate(next_key=RawSQL(f"COALESCE({_next_departure_sql(today)}, '{_NO_DEPARTURE}')"))
    return query.order_by(*_ORDER[filters.sort])


async def _page_ids(filters: TripFilters, today: date, offset: int, limit: int) -> list[tuple[int, date | None]]:
    """(trip id, next departure) of one page of matches, in the requested order."""
    rows = await sorted_query(filters, today).offset(offset).limit(limit).values("id")
    nexts = await _next_departures([r["id"] for r in rows], today)
    return [(r["id"], nexts.get(r["id"])) for r in rows]


async def _next_departures(trip_ids: list[int], today: date, now: datetime | None = None) -> dict[int, date]:
    """Each trip's next departure a traveller can book: listed, sales open, seats left.
    (Computed when the page is built: a run that sells out later still shows until the
    catalogue changes or the day turns.)"""
    if not trip_ids:
        return {}
    runs = await (
        Departure.filter(booking.listed_departures(today), sales_closed=False, trip_id__in=trip_ids)
        .order_by("starts_on")
        .values("id", "trip_id", "starts_on", "capacity")
    )
    taken = await seats_taken_by_departure([r["id"] for r in runs], now or datetime.now(UTC))
    nexts: dict[int, date] = {}
    for run in runs:
        if run["trip_id"] not in nexts and run["capacity"] - taken[run["id"]] > 0:
            nexts[run["trip_id"]] = _as_date(run["starts_on"])
    return nexts


def _as_date(value: date | str) -> date:
    # SQLite hands aggregates back as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


async def _trips_by_id(ids: list[int]) -> dict[int, Trip]:
    if not ids:
        return {}
    return {t.id: t for t in await Trip.filter(id__in=ids).select_related("destination")}


# ---------------------------------------------------------------- pages


@dataclass
class TripPage:
    trip: Trip
    departures: list[DepartureView]


async def trip_page(slug: str, today: date, now: datetime, cache: QueryCache | None = None) -> TripPage:
    """A published trip and its upcoming departures with seats left; NotFound otherwise."""

    async def load() -> tuple[Trip, list[Departure]] | None:
        if not is_slug(slug, 120):  # trips.slug
            return None
        trip = await Trip.get_or_none(slug=slug, is_published=True).select_related("destination")
        if trip is None:
            return None
        departures = await Departure.filter(booking.listed_departures(today), trip=trip).order_by("starts_on")
        for departure in departures:
            departure.trip = trip
        return trip, list(departures)

    await _sync(cache)
    found = await _cached(cache, ("trip", slug, today), load)
    if found is None:
        raise NotFound("We could not find that trip. It may no longer be offered.")
    trip, departures = found
    return TripPage(trip, await _departure_views(departures, now))


def is_slug(slug: str, max_length: int) -> bool:
    """Could this be a slug in a column of `max_length`? Others are a 404 without a query."""
    return 0 < len(slug) <= max_length and slug.isascii() and slug.isprintable()


@dataclass
class DestinationPage:
    destination: Destination
    cards: list[TripCard]


async def destination_page(slug: str, today: date, cache: QueryCache | None = None) -> DestinationPage:
    await _sync(cache)
    destination = is_slug(slug, 80) and await _cached(cache, ("destination", slug), lambda: Destination.get_or_none(slug=slug))
    if not destination:
        raise NotFound("We could not find that destination.")
    filters = TripFilters(destination=slug)
    cards = await _cached(cache, ("destination-trips", today, slug), lambda: _page_cards(filters, today, 0, MAX_DESTINATION_TRIPS))
    return DestinationPage(destination, cards)



@dataclass
class HomePage:
    featured: list[TripCard]
    upcoming: list[DepartureView]
    destinations: list[tuple[Destination, int]]


async def home_page(today: date, now: datetime, cache: QueryCache | None = None, *, featured: int = 6, upcoming: int = 6) -> HomePage:
    """Featured trips, the next departures that still have seats, and the busiest
    destinations with their trip counts (a list that does not grow with the catalogue)."""

    async def load_featured() -> list[TripCard]:
        # Featured trips first, topped up with others when the operator featured too few.
        trips = await Trip.filter(is_published=True).select_related("destination").order_by("-featured", "title").limit(featured)
        nexts = await _next_departures([t.id for t in trips], today, now)
        return [TripCard(t, nexts.get(t.id)) for t in trips]

    async def load_upcoming() -> list[Departure]:
        # More than needed: some of the next runs may be sold out.
        return list(
            await Departure.filter(booking.listed_departures(today), trip__is_published=True, sales_closed=False)
            .select_related("trip", "trip__destination")
            .order_by("starts_on", "id")
            .limit(upcoming * 4)
        )

    await _sync(cache)
    cards = await _cached(cache, ("home-featured", today), load_featured)
    departures = await _cached(cache, ("home-upcoming", today), load_upcoming)
    views = [v for v in await _departure_views(departures, now) if v.bookable][:upcoming]
    places = await _cached(cache, ("busiest-destinations",), _busiest_destinations)
    return HomePage(cards, views, places)

