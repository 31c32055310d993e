"""The catalogue: what travellers can browse."""

from __future__ import annotations

from yatri.models import Trip


async def published_trips() -> list[Trip]:
    """Every published trip with its destination, featured first."""
    return await Trip.filter(is_published=True).select_related("destination").order_by("-featured", "title")
