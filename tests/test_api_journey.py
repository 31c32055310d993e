"""The JSON API as a new user tries it with curl against `yatri serve` on the demo data:
get tokens, list trips, book, read the booking, pay, refresh, log out."""

import json
import urllib.error
import urllib.request

from tests.live import LiveServer

DEMO_ADMIN = {"email": "admin@yatri.example", "password": "namaste-yatri-demo"}
LEAD = {
    "full_name": "Asha Rao", "age": 31, "phone": "+91 98765 43210", "email": "asha@example.com",
    "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "98123 45678",
}  # fmt: skip


class Api:
    def __init__(self, url: str) -> None:
        self.url = url + "/api/v1"
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: dict | None = None, **headers) -> tuple[int, dict, dict]:
        data = json.dumps(body).encode() if body is not None else None
        sent = {**self.headers, **headers, **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(self.url + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, dict(response.headers), json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), json.loads(exc.read())


def test_a_new_user_books_pays_refreshes_and_logs_out(database_url, tmp_path):
    with LiveServer(database_url, tmp_path / "var") as server:
        server.yatri("demo-data")
        api = Api(server.url)
        status, _, tokens = api.call("POST", "/auth/token", DEMO_ADMIN)
        assert status == 200, tokens
        api.headers["Authorization"] = f"Bearer {tokens['access_token']}"

        status, _, trips = api.call("GET", "/trips?destination=manali&sort=price")
        assert status == 200 and trips["items"]
        _, _, trip = api.call("GET", f"/trips/{trips['items'][-1]['slug']}")
        departure = next(d for d in trip["departures"] if d["seats_left"] >= 2)

        booking = {"departure_id": departure["id"], "travellers": [LEAD, {"full_name": "Meera Iyer", "age": 29}]}
        status, headers, held = api.call("POST", "/bookings", booking, **{"Idempotency-Key": "journey-1"})
        assert status == 201, held
        assert headers["Location"] == f"/api/v1/bookings/{held['reference']}" and held["status"] == "held"
        _, _, seats = api.call("GET", f"/trips/{trip['slug']}")
        assert next(d for d in seats["departures"] if d["id"] == departure["id"])["seats_left"] == departure["seats_left"] - 2

        status, _, read = api.call("GET", f"/bookings/{held['reference']}")
        assert status == 200 and [t["full_name"] for t in read["travellers"]] == ["Asha Rao", "Meera Iyer"]
        _, _, pay = api.call("GET", f"/bookings/{held['reference']}/payment")
        assert pay["upi_link"].startswith("upi://pay?") and f"tr={held['reference']}" in pay["upi_link"]
        status, _, paid = api.call("POST", f"/bookings/{held['reference']}/payment", {"utr": "432187652109"})
        assert status == 201 and paid["status"] == "payment_submitted"

        status, _, fresh = api.call("POST", "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
        assert status == 200 and fresh["refresh_token"] != tokens["refresh_token"]
        status, _, _ = api.call("POST", "/auth/logout", {"refresh_token": fresh["refresh_token"]})
        assert status == 204
        status, headers, problem = api.call("POST", "/auth/refresh", {"refresh_token": fresh["refresh_token"]})
        assert status == 401 and headers["Content-Type"].startswith("application/problem+json"), problem
