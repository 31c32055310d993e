"""A price quote: what a booking of so many travellers on a departure would cost now,
before any seat is held (the API's quote; the review page shows the same breakdown)."""

from __future__ import annotations

from datetime import date

from yatri.services import booking
from yatri.services.pricing import PriceBreakdown, departure_breakdown


async def quote(departure_id: int, travellers: int, today: date) -> PriceBreakdown:
    """The breakdown for `travellers` on a departure that sells today (NotFound, Conflict
    or ValidationError as when holding seats; seats left are checked only when holding)."""
    departure = await booking.bookable_departure(departure_id, today)
    booking.check_count(departure, travellers)
    return departure_breakdown(departure, travellers)
