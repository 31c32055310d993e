"""One process of the waiting-list race (tests/test_waitlist.py): once the start file
appears, serve every waiting list and try to book two seats for each given account, all
at once; prints how many entries it offered and how many bookings it made."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path

from yatri.db import database_context, open_database
from yatri.models import User
from yatri.services.booking import hold_seats
from yatri.services.seats import SeatsUnavailable
from yatri.services.travellers import TravellerInput
from yatri.services.waitlist_offers import serve_lines
from yatri.settings import Settings


async def book(email: str, departure_id: int, now: datetime, today: date) -> int:
    user = await User.get(email=email)
    two = [TravellerInput(full_name="Race One", age=30), TravellerInput(full_name="Race Two", age=31)]
    try:
        await hold_seats(user, departure_id, two, idempotency_key=None, now=now, today=today, hold_minutes=15)
    except SeatsUnavailable:
        return 0
    return 1


async def main(url: str, departure_id: int, now: str, today: str, start: str, emails: list[str]) -> None:
    ctx = await open_database(Settings(database_url=url))
    moment, day = datetime.fromisoformat(now), date.fromisoformat(today)
    with database_context(ctx):
        deadline = time.monotonic() + 30
        while not Path(start).exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        steps = [serve_lines(moment, day, None) for _ in range(3)] + [book(e, departure_id, moment, day) for e in emails]
        results = await asyncio.gather(*steps)
    await ctx.close_connections()
    print(json.dumps({"offered": sum(results[:3]), "booked": sum(results[3:])}))


if __name__ == "__main__":
    url, departure_id, now, today, start, *emails = sys.argv[1:]
    asyncio.run(main(url, int(departure_id), now, today, start, emails))
