"""A Python client generated from /api/openapi.json by openapi-python-client (the README's
command) books a trip against `yatri serve` on the demo data: token, list trips, book,
read the booking, the payment payload, refresh, log out. Once, on SQLite: the generator
is slow and the document is the same on both databases."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request

from tests.live import BIN, LiveServer
from tests.test_api_journey import DEMO_ADMIN, LEAD

PACKAGE = "yatri_client"


def generate(url: str, tmp_path) -> tuple[dict, str]:
    """The document and the generator's output; the client lands in tmp_path/yatri_client."""
    with urllib.request.urlopen(url + "/api/openapi.json", timeout=10) as response:
        document = json.loads(response.read())
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    run = subprocess.run(
        [BIN / "openapi-python-client", "generate", "--path", "openapi.json", "--meta", "none", "--output-path", PACKAGE],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},  # its ruff post-hook
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return document, run.stdout + run.stderr


def api(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_a_generated_client_books_a_trip(sqlite_template, tmp_path):
    shutil.copy(sqlite_template, tmp_path / "yatri.sqlite3")
    with LiveServer(f"sqlite://{tmp_path / 'yatri.sqlite3'}", tmp_path / "var") as server:
        server.yatri("demo-data")
        document, output = generate(server.url, tmp_path)
        assert "Warning" not in output and "Unable to" not in output and "Skipping" not in output, output
        operations = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
        generated = {p.stem for p in (tmp_path / PACKAGE / "api").glob("*/*.py") if p.stem != "__init__"}
        assert generated == operations  # no endpoint skipped

        sys.path.insert(0, str(tmp_path))
        try:
            journey(server.url)
        finally:
            sys.path.remove(str(tmp_path))
            for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
                del sys.modules[name]


def journey(url: str) -> None:
    client = importlib.import_module(PACKAGE)
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = client.Client(base_url=url)

    tokens = api("auth.auth_token").sync(client=anonymous, body=models.Credentials(**DEMO_ADMIN))
    assert isinstance(tokens, models.TokenPair), tokens
    signed_in = client.AuthenticatedClient(base_url=url, token=tokens.access_token)

    trips = api("catalogue.catalogue_trips").sync(client=anonymous, destination="manali", sort="price")
    assert isinstance(trips, models.TripList) and trips.items
    trip = api("catalogue.catalogue_trip").sync(trips.items[-1].slug, client=anonymous)
    bookable = (models.SaleState.AVAILABLE, models.SaleState.FILLING_FAST)
    departure = next(d for d in trip.departures if d.state in bookable and d.seats_left >= 2)

    travellers = [models.TravellerInput(**LEAD), models.TravellerInput(full_name="Meera Iyer", age=29)]
    request = models.BookingRequest(departure_id=departure.id, travellers=travellers)
    held = api("bookings.bookings_create").sync_detailed(client=signed_in, body=request, idempotency_key="client-1")
    assert held.status_code == 201, held.content
    booking = held.parsed
    assert booking.status == models.BookingStatus.HELD and booking.total_paise > 0

    read = api("bookings.bookings_detail").sync(booking.reference, client=signed_in)
    assert isinstance(read, models.BookingDetail), read
    assert [t.full_name for t in read.travellers] == ["Asha Rao", "Meera Iyer"]
    pay = api("payments.payments_payment").sync(booking.reference, client=signed_in)
    assert isinstance(pay, models.PaymentInfo) and pay.payable and pay.amount_paise == booking.total_paise
    assert pay.upi_link.startswith("upi://pay?") and f"tr={booking.reference}" in pay.upi_link

    fresh = api("auth.auth_refresh").sync(client=anonymous, body=models.RefreshRequest(refresh_token=tokens.refresh_token))
    assert isinstance(fresh, models.TokenPair) and fresh.refresh_token != tokens.refresh_token
    out = api("auth.auth_logout").sync_detailed(client=anonymous, body=models.RefreshRequest(refresh_token=fresh.refresh_token))
    assert out.status_code == 204
    refused = api("auth.auth_refresh").sync(client=anonymous, body=models.RefreshRequest(refresh_token=fresh.refresh_token))
    assert isinstance(refused, models.Problem) and refused.status == 401
