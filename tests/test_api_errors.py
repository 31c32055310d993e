"""Every error under /api/ is RFC 9457 problem+json, whatever raised it."""

from http import HTTPStatus

from tests.api_helpers import bearer, bearer_for, is_problem
from tests.booking_data import make_departure
from tests.helpers import PASSWORD, make_user


async def problem(response, status: int) -> dict:
    assert is_problem(response, status), (response.status, await response.text())
    body = await response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    # about:blank carries the status phrase as title (RFC 9457); a title of our own has its own type.
    assert body["title"] == HTTPStatus(status).phrase if body["type"] == "about:blank" else body["type"].startswith("/problems/")
    assert body["instance"] == response.url.path
    return body


async def test_unknown_api_path_is_404(client):
    await problem(await client.get("/api/v1/nothing-here"), 404)
    await problem(await client.get("/api/nothing"), 404)


async def test_wrong_method_is_405_with_allow(client):
    response = await client.delete("/api/v1/auth/token")
    await problem(response, 405)
    assert set(response.headers["Allow"].split(",")) == {"POST", "OPTIONS"}


async def test_a_body_that_is_not_json_is_415(client):
    form = await client.post("/api/v1/auth/token", data={"email": "a@example.com", "password": "x"})
    assert "application/json" in (await problem(form, 415))["detail"]
    await problem(await client.post("/api/v1/auth/token", data="{}", headers={"Content-Type": "text/plain"}), 415)
    await problem(await client.post("/api/v1/auth/token"), 415)  # no body, no type


async def test_invalid_fields_are_422_with_a_list_of_field_errors(client):
    body = await problem(await client.post("/api/v1/auth/token", json={"email": 5}), 422)
    assert body["errors"] == [
        {"field": "email", "message": "This field must be a string."},
        {"field": "password", "message": "This field is required."},
    ]
    broken = await client.post("/api/v1/auth/token", data="{not json", headers={"Content-Type": "application/json"})
    assert (await problem(broken, 422))["errors"] == [{"field": "body", "message": "The body is not valid JSON."}]
    listed = await client.post("/api/v1/auth/token", json=["a", "b"])
    assert (await problem(listed, 422))["errors"][0]["field"] == "body"


async def test_missing_or_bad_token_is_401_with_www_authenticate(client):
    for headers in ({}, {"Authorization": "Basic YTpi"}, bearer("not-a-jwt")):
        response = await client.get("/api/v1/me", headers=headers)
        await problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="yatri"')


async def test_stale_etag_is_412_and_missing_if_match_is_428(client):
    await make_user()
    auth = await bearer_for(client)
    await problem(await client.patch("/api/v1/me", json={"name": "X"}, headers={**auth, "If-Match": '"v9"'}), 412)
    await problem(await client.patch("/api/v1/me", json={"name": "X"}, headers=auth), 428)


async def test_a_body_too_large_is_refused_as_problem_json(client):
    await make_user()
    response = await client.post(
        "/api/v1/auth/token", data=b'{"email": "' + b"a" * 70_000 + b'"}', headers={"Content-Type": "application/json"}
    )
    assert (await problem(response, 422))["errors"] == [{"field": "body", "message": "The body is too large."}]


async def test_a_traveller_token_on_an_admin_route_is_403(client):
    await make_user()
    await problem(await client.get("/api/v1/admin/trips", headers=await bearer_for(client)), 403)


async def test_a_sold_out_departure_is_409(client):
    await make_user()
    departure = await make_departure(capacity=1)
    travellers = [{"full_name": "Asha Rao", "age": 31, "phone": "9876543210", "email": "asha@example.com",
                   "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "9812345678"}, {"full_name": "Meera", "age": 9}]  # fmt: skip
    response = await client.post(
        "/api/v1/bookings", json={"departure_id": departure.id, "travellers": travellers}, headers=await bearer_for(client)
    )
    await problem(response, 409)


async def test_too_many_failed_sign_ins_are_429_with_retry_after(client):
    await make_user()
    for _ in range(5):
        wrong = await client.post("/api/v1/auth/token", json={"email": "asha@example.com", "password": "wrong-password-1"})
        await problem(wrong, 401)
    # Now even the right password waits: the login form's throttle, shared.
    throttled = await client.post("/api/v1/auth/token", json={"email": "asha@example.com", "password": PASSWORD})
    assert "Too many failed sign-ins" in (await problem(throttled, 429))["detail"]
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
