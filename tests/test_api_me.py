"""The signed-in user's profile over the API: ETags, If-Match, 412 on a stale version."""

from yatri.models import AuditLog, User

from tests.api_helpers import bearer_for, is_problem
from tests.helpers import make_user


async def test_get_me_has_the_version_as_etag(client):
    await make_user()
    auth = await bearer_for(client)
    response = await client.get("/api/v1/me", headers=auth)
    assert response.status == 200
    assert response.headers["ETag"] == '"v1"' and (await response.json())["version"] == 1


async def test_patch_me_changes_name_and_phone_bumps_version_and_audits(client):
    user = await make_user()
    auth = await bearer_for(client)
    response = await client.patch(
        "/api/v1/me", json={"name": "  Asha   R. ", "phone": "+91 98765-43210"}, headers={**auth, "If-Match": '"v1"'}
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["name"], body["phone"], body["version"]) == ("Asha R.", "+919876543210", 2)
    assert response.headers["ETag"] == '"v2"'
    await user.refresh_from_db()
    assert (user.name, user.phone, user.version) == ("Asha R.", "+919876543210", 2)
    entry = await AuditLog.get(entity="user", entity_id=str(user.id), action="profile_updated")
    assert entry.actor_id == user.id
    assert entry.data == {"before": {"name": "Asha Rao", "phone": None}, "after": {"name": "Asha R.", "phone": "+919876543210"}}


async def test_a_stale_etag_is_412_and_changes_nothing(client):
    user = await make_user()
    auth = await bearer_for(client)
    first = await client.patch("/api/v1/me", json={"name": "First"}, headers={**auth, "If-Match": '"v1"'})
    assert first.status == 200
    # A second client still holds the ETag it read before the first change.
    stale = await client.patch("/api/v1/me", json={"name": "Second"}, headers={**auth, "If-Match": '"v1"'})
    assert is_problem(stale, 412)
    assert "version 2" in (await stale.json())["detail"]
    await user.refresh_from_db()
    assert (user.name, user.version) == ("First", 2)
    assert await AuditLog.filter(action="profile_updated").count() == 1


async def test_patch_me_without_if_match_is_428(client):
    await make_user()
    auth = await bearer_for(client)
    response = await client.patch("/api/v1/me", json={"name": "Nobody"}, headers=auth)
    assert is_problem(response, 428)
    assert "If-Match" in (await response.json())["detail"]
    weak = await client.patch("/api/v1/me", json={"name": "Nobody"}, headers={**auth, "If-Match": 'W/"v1"'})
    assert is_problem(weak, 412)  # weak tags never match If-Match
    assert (await User.get(email="asha@example.com")).name == "Asha Rao"


async def test_patch_me_reports_each_bad_field(client):
    await make_user()
    auth = await bearer_for(client)
    response = await client.patch(
        "/api/v1/me", json={"name": "Asha", "email": "x@example.com"}, headers={**auth, "If-Match": '"v1"'}
    )
    assert is_problem(response, 422)
    assert (await response.json())["errors"] == [{"field": "email", "message": "This field cannot be changed here."}]
    fields = await client.patch("/api/v1/me", json={"name": " \x00 ", "phone": "12ab"}, headers={**auth, "If-Match": '"v1"'})
    errors = {e["field"]: e["message"] for e in (await fields.json())["errors"]}
    assert errors == {"name": "Enter your name.", "phone": "Enter a phone number of 10 to 15 digits, for example +91 98765 43210."}


async def test_saving_the_same_values_keeps_the_version(client):
    await make_user()
    auth = await bearer_for(client)
    response = await client.patch("/api/v1/me", json={"name": "Asha Rao", "phone": None}, headers={**auth, "If-Match": "*"})
    assert response.status == 200 and response.headers["ETag"] == '"v1"'
    assert await AuditLog.filter(action="profile_updated").count() == 0
