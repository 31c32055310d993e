"""A bigger catalogue for the bench: the demo data copied `factor - 1` more times.

    .venv/bin/python bench/scale.py --factor 100      # on DATABASE_URL, after `yatri demo-data`

Copy k of every destination, trip, departure and booking gets the slug suffix `-xk` (the
reference `Xk-<id>`), so 100x the demo catalogue is 1,000 destinations, 2,800 trips, about
38,400 departures and 40,000 bookings. Rows go in with bulk inserts, one transaction per
copy, and the catalogue version moves once at the end (as `yatri demo-data` does).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_SKIP = {"id", "created_at", "updated_at"}


def _copy(row, **changes):
    """An unsaved copy of a model row with `changes` (no id, fresh timestamps)."""
    values = {name: getattr(row, name) for name in row._meta.fields_db_projection if name not in _SKIP}
    return type(row)(**{**values, **changes})


async def scale_catalogue(factor: int) -> dict[str, int]:
    """Copy the catalogue in the open database until it is `factor` times the original."""
    from tortoise.transactions import in_transaction

    from yatri.models import Booking, Departure, Destination, Trip
    from yatri.services.catalogue import bump_version

    destinations = list(await Destination.exclude(slug__contains="-x"))
    trips = list(await Trip.exclude(slug__contains="-x"))
    departures = list(await Departure.filter(trip_id__in=[t.id for t in trips]))
    bookings = list(await Booking.filter(departure_id__in=[d.id for d in departures]))
    for k in range(2, factor + 1):
        async with in_transaction():
            await Destination.bulk_create([_copy(d, slug=f"{d.slug}-x{k}", name=f"{d.name} {k}") for d in destinations])
            place_of = {d.slug: d.id for d in await Destination.filter(slug__endswith=f"-x{k}")}
            new_place = {d.id: place_of[f"{d.slug}-x{k}"] for d in destinations}
            await Trip.bulk_create([_copy(t, slug=f"{t.slug}-x{k}", destination_id=new_place[t.destination_id]) for t in trips])
            trip_of = {t.slug.rsplit("-x", 1)[0]: t.id for t in await Trip.filter(slug__endswith=f"-x{k}")}
            slug_of = {t.id: t.slug for t in trips}
            await Departure.bulk_create([_copy(d, trip_id=trip_of[slug_of[d.trip_id]]) for d in departures])
            copies = {
                (d.trip_id, d.starts_on): d.id for d in await Departure.filter(trip_id__in=list(trip_of.values()))
            }
            new_trip = {t.id: trip_of[t.slug] for t in trips}
            departure_of = {d.id: copies[(new_trip[d.trip_id], d.starts_on)] for d in departures}
            await Booking.bulk_create(
                [
                    _copy(b, departure_id=departure_of[b.departure_id], reference=f"X{k}-{b.id}", idempotency_key=None)
                    for b in bookings
                ],
                batch_size=500,
            )
    async with in_transaction():
        await bump_version()
    return {
        "destinations": await Destination.all().count(),
        "trips": await Trip.all().count(),
        "departures": await Departure.all().count(),
        "bookings": await Booking.all().count(),
    }


async def main() -> None:
    from yatri.db import open_database
    from yatri.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factor", type=int, required=True)
    args = parser.parse_args()
    settings = Settings(database_url=os.environ.get("DATABASE_URL", Settings().database_url))
    ctx = await open_database(settings)
    with ctx:
        counts = await scale_catalogue(args.factor)
    await ctx.close_connections()
    print(", ".join(f"{n} {name}" for name, n in counts.items()))


if __name__ == "__main__":
    asyncio.run(main())
