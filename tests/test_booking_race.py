"""Proof that seats are never sold twice, over HTTP against real server processes, and
that a server killed mid-booking leaves no half-made booking."""

from __future__ import annotations

import asyncio
import os
import signal


from bench.booking_race import RACE_LIMITS, TRAVELLER, prepare, race, seats_in_database, _signed_in
from tests.live import LiveServer


def servers_for(database_url: str) -> int:
    """Two processes share PostgreSQL; SQLite is supported with one process."""
    return 1 if database_url.startswith("sqlite") else 2


async def test_200_requests_for_20_seats_hold_exactly_20(database_url, tmp_path):
    departure_id, emails = await prepare(database_url, seats=20, travellers=10)
    count = servers_for(database_url)
    live = [LiveServer(database_url, tmp_path / f"var{n}", **RACE_LIMITS) for n in range(count)]
    for server in live:
        server.__enter__()
    try:
        result = await race([s.url for s in live], departure_id, emails, requests=200)
    finally:
        for server in live:
            server.__exit__(None)
    assert result.booked == 20
    assert result.server_errors == 0
    assert result.statuses[409] == 180, result.statuses
    assert all("sold out" in message or "left" in message for message in result.refusals), result.refusals
    capacity, taken, broken = await seats_in_database(database_url, departure_id)
    assert (capacity, taken, broken) == (20, 20, 0)


async def test_a_server_killed_mid_booking_leaves_no_half_made_booking(database_url, tmp_path):
    departure_id, emails = await prepare(database_url, seats=400, travellers=4)
    with LiveServer(database_url, tmp_path / "var", **RACE_LIMITS) as server:
        clients = [await _signed_in(server.url, email) for email in emails]
        url = f"{server.url}/departures/{departure_id}/book"
        three = {**TRAVELLER, **{f"t{n}-{k}": v for n in (2, 3) for k, v in (("full_name", f"Friend {n}"), ("age", "25"))}}

        async def keep_booking(session, token) -> None:
            n = 0
            while True:
                n += 1
                data = {"csrf_token": token, "count": "3", "idempotency_key": os.urandom(8).hex(), **three}
                try:
                    async with session.post(url, data=data, allow_redirects=False) as response:
                        await response.read()
                except Exception:
                    return  # the server is gone

        traffic = [asyncio.create_task(keep_booking(s, t)) for s, t in clients]
        await asyncio.sleep(1.0)
        server.process.send_signal(signal.SIGKILL)
        await asyncio.gather(*traffic)
        for session, _ in clients:
            await session.close()
    capacity, taken, broken = await seats_in_database(database_url, departure_id)
    assert taken > 0, "no booking was made before the kill: the test proved nothing"
    assert taken % 3 == 0 and taken <= capacity
    assert broken == 0
