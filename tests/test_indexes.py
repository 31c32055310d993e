"""The indexes the seat and booking queries need exist and are used: EXPLAIN of the seat
count on each database names the index on bookings (departure_id, status), and the /trips
sort by next departure seeks each trip's departures through an index."""

import re
from datetime import datetime, timedelta, timezone

from tortoise.transactions import in_transaction

from tests.test_seats import make_departure
from yatri.models import Booking, BookingStatus, Departure, User
from yatri.services.catalogue import TripFilters, sorted_query
from yatri.services.seats import seats_taken_query

SQLITE_INDEX = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'bookings' AND sql LIKE '%(\"departure_id\", \"status\")%'"
PG_INDEX = "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'bookings' AND indexdef LIKE '%(departure_id, status)%'"


async def many_bookings(departures: int = 20, per_departure: int = 50) -> list[Departure]:
    """Bookings spread over many departures, mostly confirmed, so that one departure's
    rows are few and its status alone says little."""
    first = await make_departure()
    runs = [first] + [
        await Departure.create(trip_id=first.trip_id, starts_on=first.starts_on + timedelta(days=n), ends_on=first.ends_on + timedelta(days=n), capacity=999)
        for n in range(1, departures)
    ]  # fmt: skip
    user = await User.create(email="index@example.com", name="Index")
    await Booking.bulk_create([
        Booking(
            reference=f"YT-I{d:02d}{n:03d}", user=user, departure=run, seats=1, status=BookingStatus.CONFIRMED if n % 10 else BookingStatus.CANCELLED,
            unit_price_paise=100, subtotal_paise=100, gst_paise=0, total_paise=100,
        )
        for d, run in enumerate(runs) for n in range(per_departure)
    ])  # fmt: skip
    return runs


async def test_the_seat_count_uses_the_departure_status_index(client):
    runs = await many_bookings()
    sql = seats_taken_query([runs[3].id], datetime.now(timezone.utc)).sql(params_inline=True)
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "sqlite":
            [index] = await conn.execute_query_dict(SQLITE_INDEX)
            plan = await conn.execute_query_dict("EXPLAIN QUERY PLAN " + sql)
        else:
            [index] = await conn.execute_query_dict(PG_INDEX)
            await conn.execute_query("ANALYZE bookings")
            await conn.execute_query("SET LOCAL enable_seqscan = off")
            plan = await conn.execute_query_dict("EXPLAIN " + sql)
    text = "\n".join(str(value) for row in plan for value in row.values())
    assert index["name"] in text, text
    assert await seats_taken_query([runs[3].id], datetime.now(timezone.utc)) == [{"departure_id": runs[3].id, "seats_sum": 45}]


async def _plan(sql: str, analyze: str) -> str:
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "sqlite":
            plan = await conn.execute_query_dict("EXPLAIN QUERY PLAN " + sql)
        else:
            await conn.execute_query(f"ANALYZE {analyze}")
            await conn.execute_query("SET LOCAL enable_seqscan = off")
            plan = await conn.execute_query_dict("EXPLAIN " + sql)
    return "\n".join(str(value) for row in plan for value in row.values())


async def test_the_next_departure_sort_seeks_each_trips_departures_by_index(client):
    runs = await many_bookings(departures=30, per_departure=1)
    sql = sorted_query(TripFilters(sort="next"), runs[0].starts_on).limit(10).sql(params_inline=True)
    text = await _plan(sql, "departures")
    assert "LIMIT" in sql.upper() and "departures d" in sql
    # SQLite: "SEARCH d USING INDEX idx_departures_trip_id_..."; PostgreSQL: an index scan on departures.
    assert re.search(r"SEARCH d USING (COVERING )?INDEX \w*trip|Index (Only )?Scan using \w+ on departures", text), text
    page = await sorted_query(TripFilters(sort="next"), runs[0].starts_on).limit(10).values("id")
    assert page == [{"id": runs[0].trip_id}]
