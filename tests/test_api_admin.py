"""The operator's API: trips and departures through the admin services, admin tokens only."""

from datetime import UTC, datetime, timedelta

from yatri.models import AuditLog, Booking, BookingStatus, Departure, Role, Trip

from tests.api_helpers import bearer_for, is_problem
from tests.booking_data import TODAY, hold, make_departure
from tests.helpers import make_user

NEW_TRIP = {
    "title": "Kedarkantha Winter Trek", "kind": "trek", "destination": "manali", "days": 6, "difficulty": "moderate",
    "price_paise": 1_150_000, "summary": "Snow trails and a summit at dawn.",
}  # fmt: skip


async def admin_auth(client) -> dict:
    await make_user("ops@example.com", name="Ops", role=Role.ADMIN)
    return await bearer_for(client, "ops@example.com")


async def test_traveller_tokens_get_403(client):
    await make_user()
    departure = await make_departure()
    auth = await bearer_for(client)
    for method, path in [("GET", "/api/v1/admin/trips"), ("POST", f"/api/v1/admin/trips/{departure.trip.id}/publish"),
                         ("PATCH", f"/api/v1/admin/departures/{departure.id}")]:  # fmt: skip
        response = await client.request(method, path, json={"capacity": 1}, headers=auth)
        assert is_problem(response, 403), path
    assert (await Departure.get(id=departure.id)).capacity == 20


async def test_create_a_trip_as_a_draft_then_publish_it(client):
    await make_departure()  # makes the manali destination
    auth = await admin_auth(client)
    response = await client.post("/api/v1/admin/trips", json={**NEW_TRIP, "inclusions": ["Tents", "Meals"]}, headers=auth)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert (body["slug"], body["is_published"], body["inclusions"]) == ("kedarkantha-winter-trek", False, ["Tents", "Meals"])
    assert response.headers["Location"] == f"/api/v1/admin/trips/{body['id']}"
    assert (await client.get("/api/v1/trips/kedarkantha-winter-trek")).status == 404

    published = await client.post(f"/api/v1/admin/trips/{body['id']}/publish", headers=auth)
    assert published.status == 200 and (await published.json())["is_published"] is True
    assert (await client.get("/api/v1/trips/kedarkantha-winter-trek")).status == 200
    actions = await AuditLog.filter(entity="trip", entity_id=str(body["id"])).values_list("action", flat=True)
    assert actions == ["create", "edit", "publish"]


async def test_trip_fields_are_checked_by_the_admin_rules(client):
    await make_departure()
    auth = await admin_auth(client)
    bad = {**NEW_TRIP, "price_paise": -5, "destination": "atlantis", "days": "six", "colour": "red"}
    response = await client.post("/api/v1/admin/trips", json=bad, headers=auth)
    assert is_problem(response, 422)
    errors = {e["field"]: e["message"] for e in (await response.json())["errors"]}
    assert errors.keys() == {"price_paise", "destination", "days", "colour"}
    assert "above 0" in errors["price_paise"]
    assert await Trip.filter(title=NEW_TRIP["title"]).count() == 0


async def test_editing_a_trip_needs_its_current_etag(client):
    departure = await make_departure()
    trip_id = departure.trip.id
    auth = await admin_auth(client)
    read = await client.get(f"/api/v1/admin/trips/{trip_id}", headers=auth)
    etag = read.headers["ETag"]
    assert is_problem(await client.patch(f"/api/v1/admin/trips/{trip_id}", json={"days": 4}, headers=auth), 428)

    changed = await client.patch(f"/api/v1/admin/trips/{trip_id}", json={"price_paise": 999_900, "days": 4}, headers={**auth, "If-Match": etag})
    assert changed.status == 200, await changed.text()
    body = await changed.json()
    assert (body["price_paise"], body["days"]) == (999_900, 4) and changed.headers["ETag"] != etag

    stale = await client.patch(f"/api/v1/admin/trips/{trip_id}", json={"days": 7}, headers={**auth, "If-Match": etag})
    assert is_problem(stale, 412)
    assert "Ops changed this trip" in (await stale.json())["detail"]
    assert (await Trip.get(id=trip_id)).days == 4


async def test_departures_add_capacity_close_and_cancel(client):
    departure = await make_departure(capacity=10)
    trip_id = departure.trip.id
    auth = await admin_auth(client)
    starts = (TODAY + timedelta(days=90)).isoformat()
    added = await client.post(f"/api/v1/admin/trips/{trip_id}/departures", json={"starts_on": starts, "capacity": 12}, headers=auth)
    assert added.status == 201, await added.text()
    new = await added.json()
    assert (new["capacity"], new["ends_on"], new["unit_price_paise"], new["state"]) == (
        12, (TODAY + timedelta(days=94)).isoformat(), departure.trip.price_paise, "open"
    )
    again = await client.post(f"/api/v1/admin/trips/{trip_id}/departures", json={"starts_on": starts, "capacity": 12}, headers=auth)
    assert is_problem(again, 422)

    traveller = await make_user()
    # Held now: the API counts seats on the real clock, and tests/booking_data.NOW is the
    # import time, more than the 15-minute hold ago late in a full run.
    booking = await hold(traveller, departure, 3, now=datetime.now(UTC))
    too_small = await client.patch(f"/api/v1/admin/departures/{departure.id}", json={"capacity": 2}, headers=auth)
    assert is_problem(too_small, 422) and "3 seats are already held" in (await too_small.text())
    closed = await client.patch(f"/api/v1/admin/departures/{departure.id}", json={"capacity": 5, "sales_closed": True}, headers=auth)
    assert (await closed.json())["state"] == "closed" and (await closed.json())["seats_left"] == 2

    cancelled = await client.post(f"/api/v1/admin/departures/{departure.id}/cancel", json={"reason": "Snow"}, headers=auth)
    assert cancelled.status == 200, await cancelled.text()
    body = await cancelled.json()
    assert body["cancelled_bookings"] == [booking.reference] and body["departure"]["state"] == "cancelled"
    assert (await Booking.get(id=booking.id)).status == BookingStatus.CANCELLED
    twice = await client.post(f"/api/v1/admin/departures/{departure.id}/cancel", headers=auth)
    assert is_problem(twice, 409)
    listing = await (await client.get(f"/api/v1/admin/trips/{trip_id}/departures", headers=auth)).json()
    assert [d["id"] for d in listing["upcoming"]] == [departure.id, new["id"]]


async def test_a_patch_saves_all_its_fields_or_none(client):
    departure = await make_departure()
    trip_id = departure.trip.id
    other = await Trip.create(slug="bhrigu-lake", title="Bhrigu", kind="trek", destination_id=departure.trip.destination_id,
                              days=3, difficulty="easy", price_paise=100, summary="x")  # fmt: skip
    auth = await admin_auth(client)
    etag = (await client.get(f"/api/v1/admin/trips/{trip_id}", headers=auth)).headers["ETag"]
    refused = await client.patch(f"/api/v1/admin/trips/{trip_id}", json={"title": "Renamed", "slug": other.slug}, headers={**auth, "If-Match": etag})
    assert is_problem(refused, 422)
    assert {e["field"] for e in (await refused.json())["errors"]} == {"slug"}
    trip = await Trip.get(id=trip_id)
    assert (trip.title, trip.version) == (departure.trip.title, 1) and not await AuditLog.exists(action="edit")

    saved = await client.patch(f"/api/v1/admin/trips/{trip_id}", json={"title": "Renamed", "days": 6}, headers={**auth, "If-Match": etag})
    assert saved.status == 200 and ((await saved.json())["title"], (await saved.json())["version"]) == ("Renamed", 2)
    assert await AuditLog.filter(entity="trip", entity_id=str(trip_id), action="edit").count() == 2
