"""Prices in integer paise: what a traveller sees (GST included), a booking's subtotal,
GST and total.

The rounding rule (README, Pricing): GST is computed once per line, on the line's
taxable value (unit price × travellers), to the nearest paisa with halves rounded up.
A price shown per person is one traveller's line: the price plus its GST.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import RawSQL

from yatri.models import Departure, Trip


def gst_of(taxable_paise: int, percent: int) -> int:
    """GST on a taxable value, to the nearest paisa, half up."""
    return (taxable_paise * percent + 50) // 100


def with_gst(taxable_paise: int, percent: int) -> int:
    return taxable_paise + gst_of(taxable_paise, percent)


def trip_price(trip: Trip) -> int:
    """The price per person a traveller sees on the trip's card and page, GST included."""
    return with_gst(trip.price_paise, trip.gst_percent)


def trip_price_sql() -> RawSQL:
    """`trip_price` as an SQL expression on trips (to filter and sort /trips in the
    database): integer division rounds the same, half up, on SQLite and PostgreSQL."""
    return RawSQL('"trips"."price_paise" + ("trips"."price_paise" * "trips"."gst_percent" + 50) / 100')


def departure_price(departure: Departure) -> int:
    """A departure's price per person with GST (its own price, or its trip's); trip fetched."""
    return with_gst(departure.unit_price_paise, departure.trip.gst_percent)


@dataclass(frozen=True)
class PriceBreakdown:
    unit_paise: int
    seats: int
    gst_percent: int
    list_paise: int  # unit × seats
    discount_percent: int  # the group rate
    discount_paise: int
    subtotal_paise: int  # the taxable value: list less the discount
    gst_paise: int
    total_paise: int


def price_breakdown(unit_paise: int, seats: int, gst_percent: int, discount_percent: int = 0) -> PriceBreakdown:
    """One line: the discount and then GST, each rounded once on the whole line."""
    listed = unit_paise * seats
    discount = (listed * discount_percent + 50) // 100
    subtotal = listed - discount
    gst = gst_of(subtotal, gst_percent)
    return PriceBreakdown(unit_paise, seats, gst_percent, listed, discount_percent, discount, subtotal, gst, subtotal + gst)


def group_percent(tiers: list[dict], travellers: int) -> int:
    """The group rate for this many travellers in one booking: the tier with the most
    `min_travellers` that they reach; 0 below every tier."""
    reached = [tier for tier in tiers or [] if travellers >= int(tier["min_travellers"])]
    return int(max(reached, key=lambda tier: int(tier["min_travellers"]))["percent"]) if reached else 0


def departure_breakdown(departure: Departure, seats: int) -> PriceBreakdown:
    """What `seats` travellers pay on this departure: its price, less the trip's group rate
    for them, plus GST at the trip's rate; trip fetched."""
    trip = departure.trip
    return price_breakdown(departure.unit_price_paise, seats, trip.gst_percent, group_percent(trip.group_discounts, seats))
