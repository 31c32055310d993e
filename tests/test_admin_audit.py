"""/admin/audit: before and after values, filters by record, action, actor and date,
pagination, links to the changed record."""

import re
from datetime import UTC, datetime, timedelta

from tests.admin_data import make_trip
from tests.helpers import login, make_user
from yatri.models import AuditLog, Role
from yatri.services import audit


def rows(html: str) -> list[str]:
    return re.findall(r'<tr id="audit-\d+">.*?</tr>', html, re.S)


async def seed():
    priya = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    ravi = await make_user("ravi@example.com", name="Ravi Desk", role=Role.ADMIN)
    trip = await make_trip()
    await audit.record("trip", trip.id, "edit", actor=priya, data={"before": {"price_paise": 995_000}, "after": {"price_paise": 1_050_000}})
    await audit.record("booking", "YT-ABC234", "confirmed_manually", "pending_payment", "confirmed", actor=ravi, data={"note": "Paid in cash"})
    await audit.record("departure", 7, "capacity_changed", actor=ravi, data={"before": {"capacity": 10}, "after": {"capacity": 14}})
    await audit.record("booking", "YT-ABC234", "expired", "held", "expired")  # the system, no actor
    return priya, ravi, trip


async def test_the_audit_log_shows_who_what_when_with_before_and_after(client):
    priya, ravi, trip = await seed()
    await login(client, priya)
    html = await (await client.get("/admin/audit")).text()
    found = rows(html)
    assert len(found) == 4
    newest = found[0]
    assert "System" in newest and "held" in newest and "expired" in newest
    edit = next(r for r in found if "price paise" in r)
    assert "Priya Ops" in edit and '<span class="before">995000</span> → <span class="after">1050000</span>' in edit
    assert f'href="/admin/trips/{trip.id}"' in edit
    confirmed = next(r for r in found if "confirmed manually" in r)
    assert "pending_payment" in confirmed and "note: Paid in cash" in confirmed and 'href="/admin/bookings/YT-ABC234"' in confirmed
    assert 'href="/admin/departures/7"' in next(r for r in found if "capacity changed" in r)


async def test_the_audit_log_filters_by_record_action_actor_and_date(client):
    priya, ravi, trip = await seed()
    await login(client, priya)
    get = lambda **params: client.get("/admin/audit", params=params)  # noqa: E731

    by_record = rows(await (await get(entity="booking", id="YT-ABC234")).text())
    assert len(by_record) == 2 and all("YT-ABC234" in r for r in by_record)
    by_action = rows(await (await get(action="capacity_changed")).text())
    assert len(by_action) == 1 and "departure 7" in by_action[0]
    by_actor = rows(await (await get(actor=str(ravi.id))).text())
    assert len(by_actor) == 2 and all("Ravi Desk" in r for r in by_actor)

    old = await AuditLog.get(action="edit")
    await AuditLog.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(days=10))
    since = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    recent = rows(await (await get(**{"from": since})).text())
    assert len(recent) == 3 and not any("price paise" in r for r in recent)
    until = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    older = rows(await (await get(to=until)).text())
    assert len(older) == 1 and "price paise" in older[0]
    assert "No changes match" in await (await get(entity="booking", actor=str(priya.id))).text()


async def test_a_bad_audit_filter_is_explained_and_left_out(client):
    priya, _, _ = await seed()
    await login(client, priya)
    response = await client.get("/admin/audit", params={"from": "last week", "actor": "ravi"})
    html = await response.text()
    assert response.status == 200 and len(rows(html)) == 4
    assert "Enter the first day as a date" in html and 'value="last week"' in html and "Pick someone from the list" in html
    backwards = await (await client.get("/admin/audit", params={"from": "2026-12-01", "to": "2026-11-01"})).text()
    assert "The last day cannot be before the first day" in backwards


async def test_the_audit_log_is_paginated_keeping_the_filters(client):
    priya = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    for n in range(55):
        await audit.record("trip", 1, "edit", actor=priya, data={"before": {"days": n}, "after": {"days": n + 1}})
    await audit.record("destination", 1, "edit", actor=priya)
    await login(client, priya)
    first = await (await client.get("/admin/audit", params={"entity": "trip"})).text()
    assert len(rows(first)) == 50 and "1–50 of 55" in first and 'href="?entity=trip&amp;page=2"' in first
    second = await (await client.get("/admin/audit", params={"entity": "trip", "page": "2"})).text()
    assert len(rows(second)) == 5 and "51–55 of 55" in second
    assert '<span class="before">0</span>' in second  # the oldest rows come last
