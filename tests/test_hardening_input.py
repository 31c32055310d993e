"""Issue 13, requests that ended in a 500: numbers, ids and dates from paths, queries and
forms; bodies that are not UTF-8; JSON too deep or with a lone surrogate; text longer than
its column; API strings given objects; problem+json titles. On both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from yatri.errors import NotFound, YatriError
from yatri.models import AuditLog, Booking, Departure, Role, Traveller, Trip, User
from yatri.parsing import MAX_ID, FieldError, day, record_id, whole_number
from yatri import parsing
from yatri.services.money import parse_rupees as paise

from tests.booking_data import COMPANION_FORM, LEAD_FORM, TODAY, form_for, hold, make_departure
from tests.helpers import PASSWORD, csrf_in, login, make_user

API_LEAD = {
    "full_name": "Asha Rao", "age": 31, "phone": "+919876543210", "email": "asha@example.com",
    "emergency_contact_name": "Ravi Rao", "emergency_contact_phone": "+919812345678",
}  # fmt: skip

NOT_ASCII_NUMBERS = ["²", "٣", "１２", "9" * 5000, "-1", "1e3", "0x10", " ", "1 2"]
EDGE_DAYS = ["0001-01-01", "9999-12-31"]
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


# ---------------------------------------------------------------- the one parser


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS)
def test_numbers_are_ascii_digits_within_bounds(raw):
    with pytest.raises(FieldError, match="whole number from 1 to 100"):
        whole_number(raw, 1, 100)
    with pytest.raises(NotFound):
        record_id(raw, "trip")
    with pytest.raises(FieldError):
        paise(raw, 1_000)


def test_ids_reach_the_column_maximum_and_no_further():
    assert record_id("2147483647") == MAX_ID == 2**31 - 1
    assert record_id(" 1000 ") == 1000 and whole_number(7, 1, 10) == 7
    for raw in ("0", "2147483648", True, None, {}, []):
        with pytest.raises(NotFound):
            record_id(raw)


def test_rupees_become_paise_exactly():
    assert paise("9,950", 100_000) == 995_000 and paise("₹9950.5", 100_000) == 995_050
    for raw in ("0", "9950.505", "1e3", "NaN", "Infinity", "１２", "100001"):
        with pytest.raises(FieldError):
            paise(raw, 100_000)


@pytest.mark.parametrize("raw", [*EDGE_DAYS, "2026-02-30", "２０２６-01-01", "20261201", "2026-W01-1"])
def test_dates_are_iso_days_within_the_years_we_serve(raw):
    with pytest.raises(FieldError, match="^Enter the first day "):
        day(raw, "first day")
    assert day(" 2026-12-01 ").isoformat() == "2026-12-01"


# ---------------------------------------------------------------- ids on every page


async def test_a_departure_with_the_largest_id_books_end_to_end_on_the_web(client):
    user = await make_user()
    made = await make_departure(capacity=10)
    later = {"starts_on": made.starts_on + timedelta(days=7), "ends_on": made.ends_on + timedelta(days=7)}
    departure = await Departure.create(id=MAX_ID, trip=made.trip, capacity=5, **later)
    csrf = await login(client, user)
    page = await client.get(f"/departures/{departure.id}/book?count=2")
    assert page.status == 200 and 'name="t2-full_name"' in await page.text()
    data = {"csrf_token": csrf, "count": "2", **form_for([LEAD_FORM, COMPANION_FORM])}
    review = await client.post(f"/departures/{departure.id}/book/review", data=data)
    html = await review.text()
    assert review.status == 200, html
    form = html[html.index(f'action="/departures/{departure.id}/book"'):]
    posted = dict(_HIDDEN.findall(form[: form.index("</form>")]))
    confirmed = await client.post(f"/departures/{departure.id}/book", data=posted, allow_redirects=False)
    assert confirmed.status == 303
    booking = await Booking.get(user=user)
    assert booking.departure_id == MAX_ID and booking.seats == 2


@pytest.mark.parametrize("raw", ["2147483648", "9" * 5000, "٣", "0"])
async def test_ids_beyond_the_column_are_404_not_a_database_error(client, raw):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    await login(client, admin)
    for path in (f"/departures/{raw}/book", f"/admin/trips/{raw}", f"/admin/departures/{raw}", f"/admin/trips/{raw}/departures"):
        response = await client.get(path)
        assert response.status == 404, (path, response.status)
    token = csrf_in(await (await client.get("/admin/users")).text())
    for path in (f"/admin/payments/{raw}/verify", f"/admin/users/{raw}/role", f"/admin/trips/{raw}/publish"):
        response = await client.post(path, data={"csrf_token": token, "role": "admin", "published": "1"})
        assert response.status == 404, (path, response.status)


async def test_a_booking_version_above_999_round_trips_on_the_traveller_edit(client):
    user = await make_user()
    departure = await make_departure()
    booking = await hold(user, departure, count=2)
    await Booking.filter(id=booking.id).update(version=123_456)
    csrf = await login(client, user)
    page = await (await client.get(f"/bookings/{booking.reference}/travellers")).text()
    assert 'name="version" value="123456"' in page
    edited = {**COMPANION_FORM, "full_name": "Meera Menon"}
    data = {"csrf_token": csrf, "version": "123456", **form_for([LEAD_FORM, edited])}
    response = await client.post(f"/bookings/{booking.reference}/travellers", data=data, allow_redirects=False)
    assert response.status == 303, await response.text()
    assert await Traveller.filter(booking_id=booking.id, full_name="Meera Menon").exists()


# ---------------------------------------------------------------- numbers typed into forms


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS[:4])
async def test_ages_and_counts_that_are_not_ascii_numbers_get_a_field_message(client, raw):
    user = await make_user()
    departure = await make_departure()
    csrf = await login(client, user)
    data = {"csrf_token": csrf, "count": "1", **form_for([{**LEAD_FORM, "age": raw}])}
    review = await client.post(f"/departures/{departure.id}/book/review", data=data)
    assert review.status == 422 and "Enter the age in whole years" in await review.text()
    counted = await client.post(f"/departures/{departure.id}/book/review", data={**data, "count": raw})
    assert counted.status == 422 and "travellers per booking" in await counted.text()
    page = await client.get(f"/departures/{departure.id}/book", params={"count": raw})
    assert page.status == 200 and "Choose from 1 to" in await page.text()
    assert not await Booking.exists()


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS[:4])
async def test_admin_prices_capacities_and_days_that_are_not_ascii_numbers_are_refused(client, raw):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    departure = await make_departure()
    trip = departure.trip
    await login(client, admin)
    for name, message in (("price", "Enter a price in rupees"), ("days", "whole number from 1 to 60"), ("max_per_booking", "whole number from 1 to 50")):
        form = await (await client.get(f"/admin/trips/{trip.id}/fields/{name}/edit")).text()
        data = {"csrf_token": csrf_in(form), "version": "1", "base": "", name: raw}
        response = await client.post(f"/admin/trips/{trip.id}/fields/{name}", data=data)
        assert response.status == 422 and message in await response.text(), name
    page = await (await client.get(f"/admin/trips/{trip.id}/departures")).text()
    start = (TODAY + timedelta(days=90)).isoformat()
    added = await client.post(f"/admin/trips/{trip.id}/departures", data={"csrf_token": csrf_in(page), "starts_on": start, "capacity": raw, "price": raw})
    html = await added.text()
    assert added.status == 422 and "Enter the number of seats" in html and "Enter a price in rupees" in html
    fresh = await Trip.get(id=trip.id)
    assert (fresh.days, fresh.price_paise, fresh.max_per_booking) == (trip.days, trip.price_paise, trip.max_per_booking)
    assert await Departure.filter(trip_id=trip.id).count() == 1


# ---------------------------------------------------------------- dates at the edges of the calendar


async def test_dates_at_the_edges_of_the_calendar_are_explained_in_every_filter(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    departure = await make_departure()
    await login(client, admin)
    for path in ("/admin/bookings", "/admin/audit", "/trips", "/api/v1/trips"):
        for params in ({"from": EDGE_DAYS[0]}, {"to": EDGE_DAYS[1]}, {"from": EDGE_DAYS[0], "to": EDGE_DAYS[1]}):
            response = await client.get(path, params=params)
            text = await response.text()
            assert response.status in (200, 422), (path, params, response.status)
            assert "from 2000-01-01 to 2999-12-31" in text, (path, params)
    page = await (await client.get(f"/admin/trips/{departure.trip_id}/departures")).text()
    for starts_on in EDGE_DAYS:
        added = await client.post(
            f"/admin/trips/{departure.trip_id}/departures", data={"csrf_token": csrf_in(page), "starts_on": starts_on, "capacity": "10"}
        )
        assert added.status == 422 and "Enter the start date" in await added.text()
    assert await Departure.filter(trip_id=departure.trip_id).count() == 1


async def test_filter_numbers_that_are_not_ascii_get_a_message(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    await make_departure()
    await login(client, admin)
    for raw in NOT_ASCII_NUMBERS[:4]:
        for name in ("trip", "departure"):
            bookings = await (await client.get("/admin/bookings", params={name: raw})).text()
            assert "Pick one from the list" in bookings
        audit = await (await client.get("/admin/audit", params={"actor": raw})).text()
        assert "Pick someone from the list" in audit
        for name, message in (("min_price", "Enter a price"), ("page", "That page number")):
            trips = await client.get("/trips", params={name: raw})
            assert trips.status == 200 and f'id="err-{name}">{message}' in await trips.text()
        for path in ("/admin/users", "/admin/bookings", "/admin/audit", "/admin/departures"):
            assert (await client.get(path, params={"page": raw})).status == 200
    assert not await AuditLog.filter(action="edit").exists()


# ---------------------------------------------------------------- form bodies that are not UTF-8

RAW = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_a_form_body_that_is_not_utf8_is_400_on_login_logout_and_admin_posts(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    asha = await make_user()
    login_page = await client.post("/login", data=b"email=\xff&password=x", headers=RAW)
    assert login_page.status == 400 and "could not be read" in await login_page.text()
    csrf = await login(client, admin)
    for path, with_header in (("/logout", False), (f"/admin/users/{asha.id}/role", True), ("/login", True)):
        # Without the token header the CSRF check reads the form; with it, the handler does
        # (logging out reads no form, so with the header it is just a logout).
        for headers in (RAW, {**RAW, "X-CSRF-Token": csrf})[: 1 + with_header]:
            response = await client.post(path, data=b"role=admin&csrf_token=\xff", headers=headers, allow_redirects=False)
            assert response.status == 400, (path, headers, response.status)
    multipart = await client.post(
        f"/admin/users/{asha.id}/role", data=b"--x\r\nContent-Disposition: form-data; name=\"role\"\r\n\r\n\xff\r\n--x--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=x", "X-CSRF-Token": csrf},
    )  # fmt: skip
    assert multipart.status == 400
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded; charset=bogus"):
        odd = await client.post(f"/admin/users/{asha.id}/role", data=b"role=admin", headers={"Content-Type": content_type, "X-CSRF-Token": csrf})
        assert odd.status == 400, content_type
    gzipped = {**RAW, "Content-Encoding": "gzip", "X-CSRF-Token": csrf}
    assert (await client.post(f"/admin/users/{asha.id}/role", data=b"not gzip", headers=gzipped)).status == 400
    assert (await User.get(id=asha.id)).role == Role.TRAVELLER  # nothing changed
    assert (await client.get("/admin/users")).status == 200  # still signed in: the logout did not happen


# ---------------------------------------------------------------- JSON the parser or the database refuses

DEEP = b"[" * 1000 + b"]" * 1000
DEEP_OBJECT = b'{"email": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1001
SURROGATE = b'{"email": "\\ud800@example.com", "password": "x", "refresh_token": "\\udfff", "departure_id": 1, "travellers": [{"full_name": "\\ud800"}]}'
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, SURROGATE], ids=["deep-list", "deep-object", "lone-surrogate"])
async def test_json_too_deep_or_with_a_lone_surrogate_is_422_problem_json(client, body):
    user = await make_user()
    token = (await (await client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})).json())["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for path, headers in (("/api/v1/auth/token", {}), ("/api/v1/auth/refresh", {}), ("/api/v1/auth/logout", {}),
                          ("/api/v1/bookings", auth)):  # fmt: skip
        response = await client.post(path, data=body, headers={**JSON, **headers})
        assert response.status == 422 and response.content_type == "application/problem+json", (path, response.status)
        problem = await response.json()
        assert problem["errors"] == [{"field": "body", "message": "The body is not valid JSON."}]
    patched = await client.patch("/api/v1/me", data=body, headers={**JSON, **auth, "If-Match": '"v1"'})
    assert patched.status == 422
    gzipped = await client.post("/api/v1/auth/token", data=b"not gzip", headers={**JSON, "Content-Encoding": "gzip"})
    assert gzipped.status == 422 and (await gzipped.json())["errors"][0]["field"] == "body"
    assert not await Booking.exists()


# ---------------------------------------------------------------- text longer than its column

LONG_EMAIL = "a" * 300 + "@example.com"


@pytest.mark.parametrize("email", [LONG_EMAIL, "asha\x00@example.com"], ids=["too-long", "nul"])
async def test_an_email_no_account_can_have_is_a_field_message_on_login_reset_and_the_api(client, email):
    await make_user()
    token = csrf_in(await (await client.get("/login")).text())
    page = await client.post("/login", data={"email": email, "password": "x", "csrf_token": token})
    html = await page.text()
    assert page.status == 422 and 'id="f-email-error"' in html and "Enter an email address like" in html
    reset = await client.post("/password-reset", data={"email": email, "csrf_token": token})
    html = await reset.text()
    assert reset.status == 422 and 'id="f-email-error"' in html and "Enter an email address like" in html
    api = await client.post("/api/v1/auth/token", json={"email": email, "password": "x"})
    assert api.status == 422 and (await api.json())["errors"][0]["field"] == "email"


async def test_references_and_slugs_longer_than_their_columns_are_404(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    await login(client, admin)
    token = (await (await client.post("/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD})).json())["access_token"]
    long = "YT-" + "A" * 300
    for path in (f"/bookings/{long}", f"/bookings/{long}/pay", f"/admin/bookings/{long}", f"/trips/{'x' * 300}",
                 f"/destinations/{'x' * 100}", f"/api/v1/trips/{'x' * 300}", f"/api/v1/destinations/{'x' * 100}"):  # fmt: skip
        assert (await client.get(path)).status == 404, path
    api = await client.get(f"/api/v1/bookings/{long}", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 404


# ---------------------------------------------------------------- API strings are strings


@pytest.mark.parametrize("value", [{}, [], {"a": 1}, ["x"]], ids=["empty-object", "empty-list", "object", "list"])
async def test_api_string_fields_refuse_objects_and_lists_naming_the_field(client, value):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    departure = await make_departure()
    token = (await (await client.post("/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD})).json())["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    traveller = {**API_LEAD, "full_name": value, "age": value}
    booked = await client.post("/api/v1/bookings", json={"departure_id": departure.id, "travellers": [traveller]}, headers=auth)
    assert booked.status == 422
    fields = {e["field"] for e in (await booked.json())["errors"]}
    assert {"travellers[0].full_name", "travellers[0].age"} <= fields
    cases = [
        ("post", "/api/v1/auth/token", {"email": value, "password": "x"}, {}, "email"),
        ("post", "/api/v1/auth/refresh", {"refresh_token": value}, {}, "refresh_token"),
        ("patch", "/api/v1/me", {"name": value}, {**auth, "If-Match": '"v1"'}, "name"),
        ("patch", f"/api/v1/admin/trips/{departure.trip_id}", {"title": value}, {**auth, "If-Match": "*"}, "title"),
        ("post", f"/api/v1/admin/trips/{departure.trip_id}/departures", {"starts_on": value, "capacity": 5}, auth, "starts_on"),
        ("post", f"/api/v1/admin/departures/{departure.id}/cancel", {"reason": value}, auth, "reason"),
    ]
    for method, path, body, headers, field in cases:
        response = await getattr(client, method)(path, json=body, headers=headers)
        assert response.status == 422, (path, response.status)
        assert field in {e["field"] for e in (await response.json())["errors"]}, path
    assert not await Booking.exists() and (await Trip.get(id=departure.trip_id)).title == departure.trip.title


# ---------------------------------------------------------------- problem types and titles


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_with_a_title_of_its_own_names_its_problem_type():
    import yatri.app  # noqa: F401 - imports every module that defines an error

    mine = [c for c in _subclasses(YatriError) if c.__module__ != "yatri.errors" and "title" in vars(c)]
    assert mine and all("problem" in vars(c) and c.problem for c in mine), [c for c in mine if "problem" not in vars(c)]
    slugs = [c.problem for c in _subclasses(YatriError) if "problem" in vars(c) and c.problem]
    assert len(slugs) == len(set(slugs)) and all(re.fullmatch(r"[a-z]+(-[a-z]+)*", s) for s in slugs)


async def test_about_blank_problems_carry_the_http_phrase_and_specific_ones_their_type(client):
    await make_user()
    not_found = await (await client.get("/api/v1/trips/nowhere")).json(content_type=None)
    assert (not_found["type"], not_found["title"]) == ("about:blank", "Not Found")
    missing = await (await client.get("/api/v1/me")).json(content_type=None)
    assert (missing["type"], missing["title"]) == ("about:blank", "Unauthorized")
    unsupported = await (await client.post("/api/v1/auth/token", data="x", headers={"Content-Type": "text/plain"})).json(content_type=None)
    assert (unsupported["type"], unsupported["title"]) == ("about:blank", "Unsupported Media Type")
    wrong = await (await client.post("/api/v1/auth/token", json={"email": "asha@example.com", "password": "nope"})).json(content_type=None)
    assert (wrong["type"], wrong["title"]) == ("about:blank", "Unauthorized")
    invalid = await (await client.post("/api/v1/auth/token", json={"email": 5})).json(content_type=None)
    assert (invalid["type"], invalid["title"]) == ("/problems/validation", "Please check the form")
    method = await (await client.delete("/api/v1/auth/token")).json(content_type=None)
    assert (method["type"], method["title"]) == ("about:blank", "Method Not Allowed")


async def test_a_nul_in_text_that_reaches_a_column_or_a_query_is_never_a_database_error(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    token = csrf_in(await (await client.get("/signup")).text())
    signup = await client.post("/signup", data={"name": "Ravi", "email": "ravi\x00@example.com", "password": PASSWORD, "csrf_token": token})
    assert signup.status == 422 and "Enter an email address like" in await signup.text()
    await login(client, admin)
    for path, params in (("/admin/users", {"q": "a\x00b"}), ("/admin/audit", {"entity": "trip\x00", "id": "1\x00", "action": "\x00"}),
                         ("/trips", {"q": "ham\x00pta"})):  # fmt: skip
        assert (await client.get(path, params=params)).status == 200, path
    departure = await make_departure()
    page = await (await client.get(f"/admin/departures/{departure.id}/cancel")).text()
    cancelled = await client.post(
        f"/admin/departures/{departure.id}/cancel", data={"csrf_token": csrf_in(page), "reason": "snow\x00fall"}, allow_redirects=False
    )
    assert cancelled.status == 303
    [entry] = await AuditLog.filter(entity="departure", action="cancelled")
    assert entry.data["reason"] == "snow fall"
    booking = await hold(admin, await make_departure(days_ahead=60), count=1)
    page = await (await client.get(f"/admin/bookings/{booking.reference}")).text()
    response = await client.post(
        f"/admin/bookings/{booking.reference}/cancel", data={"csrf_token": csrf_in(page), "reason": "rain\x00"}, allow_redirects=False
    )
    assert response.status == 303
    assert all("\x00" not in str(row.data) for row in await AuditLog.filter(entity="booking"))


@pytest.mark.parametrize("raw", NOT_ASCII_NUMBERS[:4])
def test_settings_numbers_are_ascii_too(raw):
    from yatri.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="HOLD_MINUTES must be a whole number above 0"):
        Settings.from_env({"HOLD_MINUTES": raw})


@pytest.mark.parametrize("slug", ["manali\x00", "m" * 81])
async def test_an_api_destination_slug_no_row_can_have_is_a_field_message(client, slug):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    await make_departure()
    token = (await (await client.post("/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD})).json())["access_token"]
    trip = {"title": "Bhrigu Lake", "kind": "trek", "destination": slug, "days": 3, "difficulty": "easy", "price_paise": 100_000, "summary": "A lake."}
    response = await client.post("/api/v1/admin/trips", json=trip, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 422
    assert (await response.json())["errors"] == [{"field": "destination", "message": "Use the slug of an existing destination."}]


async def test_rejecting_a_payment_that_is_not_there_is_404_with_or_without_htmx(client):
    admin = await make_user("ops@example.com", role=Role.ADMIN)
    csrf = await login(client, admin)
    for headers in ({}, {"HX-Request": "true"}):
        response = await client.post(f"/admin/payments/{MAX_ID}/reject", data={"csrf_token": csrf, "reason": ""}, headers=headers)
        assert response.status == 404, headers


@pytest.mark.parametrize(
    ("text", "ok"),
    [("asha@example.com", True), ("asha@example", False), ("a b@example.com", False), ("asha@example.com\n", False),
     ("a" * 243 + "@example.com", False), ("a" * 242 + "@example.com", True), ("asha@@example.com", False)],
)  # fmt: skip
def test_one_email_rule_for_accounts_and_travellers(text, ok):
    assert parsing.is_email(text) is ok


@pytest.mark.parametrize(
    ("typed", "stored", "ok"),
    [("+91 98765-43210", "+919876543210", True), ("(0124) 456 7890", "01244567890", True), ("98765", "98765", False),
     ("٩٨٧٦٥٤٣٢١٠", "٩٨٧٦٥٤٣٢١٠", False), ("9" * 16, "9" * 16, False)],
)  # fmt: skip
def test_one_phone_rule_for_accounts_and_travellers(typed, stored, ok):
    assert parsing.phone_number(typed) == stored
    assert parsing.is_phone(stored) is ok
