"""Prices in integer paise: a booking's subtotal, GST and total."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_GST_PERCENT = 5  # GST on tour operator services in India


@dataclass(frozen=True)
class PriceBreakdown:
    unit_paise: int
    seats: int
    subtotal_paise: int
    gst_paise: int
    total_paise: int


def price_breakdown(unit_paise: int, seats: int, gst_percent: int = DEFAULT_GST_PERCENT) -> PriceBreakdown:
    subtotal = unit_paise * seats
    gst = (subtotal * gst_percent + 50) // 100  # to the nearest paisa, half up
    return PriceBreakdown(unit_paise, seats, subtotal, gst, subtotal + gst)
