"""Admin catalogue service: create, field edits with optimistic locking, publishing,
itinerary and images, each with its audit row and a catalogue version bump."""

import io

import pytest
from PIL import Image

from tests.helpers import make_user
from yatri.errors import NotFound, ValidationError
from yatri.models import AuditLog, Destination, Role, Trip
from yatri.services import admin_catalogue as admin
from yatri.services.admin_catalogue import DESTINATIONS, TRIPS, EditConflict, Seen
from yatri.services.catalogue import current_version
from yatri.services.media import LocalMediaStore, check_image


def image_bytes(fmt: str = "PNG", size=(800, 500), color=(11, 110, 79)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


async def setup_trip(**changes):
    admin_user = await make_user("ops@example.com", name="Priya Ops", role=Role.ADMIN)
    manali = await Destination.create(slug="manali", name="Manali", region="Himachal Pradesh")
    values = dict(
        slug="hampta-pass-trek", title="Hampta Pass Trek", kind="trek", destination=manali, days=5,
        difficulty="moderate", price_paise=995_000, summary="A crossing.",
        itinerary=[{"day": n, "title": f"Day {n}", "details": "Walk."} for n in (1, 2, 3)],
    )  # fmt: skip
    trip = await Trip.create(**{**values, **changes})
    return admin_user, manali, trip


def seen(record, name="price"):
    return Seen(record.version, admin.base(TRIPS, record, name))


async def test_create_trip_reports_every_bad_field_and_keeps_slugs_unique(client):
    user, manali, _ = await setup_trip()
    with pytest.raises(ValidationError) as bad:
        await admin.create(TRIPS, {"title": "", "kind": "cruise", "destination": "999", "days": "0", "price": "abc"}, user)
    assert set(bad.value.errors) == {"title", "slug", "kind", "destination", "days", "difficulty", "price", "summary"}
    assert "whole number from 1 to 60" in bad.value.errors["days"]
    assert "rupees" in bad.value.errors["price"]

    form = {"title": "Hampta Pass Trek", "kind": "trek", "destination": str(manali.id), "days": "5",
            "difficulty": "moderate", "price": "9,950.50", "summary": "Again."}  # fmt: skip
    with pytest.raises(ValidationError) as taken:  # the slug made from the title is taken
        await admin.create(TRIPS, form, user)
    assert taken.value.errors == {"slug": "Another trip already uses this web address: choose another."}

    version = await current_version()
    trip = await admin.create(TRIPS, {**form, "slug": "hampta-in-winter"}, user)
    assert (trip.slug, trip.price_paise, trip.is_published, trip.updated_by_id) == ("hampta-in-winter", 995_050, False, user.id)
    assert await current_version() == version + 1
    row = await AuditLog.get(entity="trip", entity_id=str(trip.id), action="create")
    assert row.actor_id == user.id and row.data["after"]["price_paise"] == 995_050 and row.data["before"] is None


async def test_edit_one_field_writes_audit_and_bumps_version(client):
    user, _, trip = await setup_trip()
    version = await current_version()
    edited = await admin.update_field(TRIPS, trip.id, "price", "10,500", seen(trip), user)
    assert (edited.price_paise, edited.version, edited.updated_by.name) == (1_050_000, 2, "Priya Ops")
    assert await current_version() == version + 1
    row = await AuditLog.get(entity="trip", action="edit")
    assert row.data == {"before": {"price_paise": 995_000}, "after": {"price_paise": 1_050_000}}
    assert row.actor_id == user.id

    same = await admin.update_field(TRIPS, trip.id, "price", "10500", seen(edited), user)
    assert same.version == 2 and await AuditLog.filter(action="edit").count() == 1  # nothing changed

    with pytest.raises(ValidationError) as bad:
        await admin.update_field(TRIPS, trip.id, "price", "-3", seen(edited), user)
    assert "price" in bad.value.errors
    with pytest.raises(ValidationError) as bad_days:
        await admin.update_field(TRIPS, trip.id, "days", "61", seen(edited, "days"), user)
    assert bad_days.value.errors == {"days": "Enter a whole number from 1 to 60."}
    assert (await Trip.get(id=trip.id)).version == 2


async def test_stale_save_of_a_changed_field_is_a_conflict_naming_who(client):
    priya, _, trip = await setup_trip()
    ravi = await make_user("ravi@example.com", name="Ravi Desk", role=Role.ADMIN)
    opened = seen(trip)  # both opened the price at version 1
    await admin.update_field(TRIPS, trip.id, "price", "11000", opened, ravi)
    with pytest.raises(EditConflict) as conflict:
        await admin.update_field(TRIPS, trip.id, "price", "12000", opened, priya)
    assert (conflict.value.by, conflict.value.theirs, conflict.value.yours) == ("Ravi Desk", "₹11,000", "₹12,000")
    assert conflict.value.status == 409 and conflict.value.version == 2
    assert "Ravi Desk changed the price" in conflict.value.detail
    assert (await Trip.get(id=trip.id)).price_paise == 1_100_000

    # A stale version is fine for a field nobody touched since, and for the same value.
    title = Seen(1, admin.base(TRIPS, trip, "title"))
    assert (await admin.update_field(TRIPS, trip.id, "title", "Hampta Pass", title, priya)).title == "Hampta Pass"
    await admin.update_field(TRIPS, trip.id, "price", "11000", opened, priya)
    # Saving again from the conflict (the current version) keeps the operator's value.
    current = await Trip.get(id=trip.id)
    assert (await admin.update_field(TRIPS, trip.id, "price", "12000", seen(current), priya)).price_paise == 1_200_000


async def test_slug_edits_stay_unique(client):
    user, manali, trip = await setup_trip()
    other = await Trip.create(slug="bhrigu-lake", title="Bhrigu", kind="trek", destination=manali, days=3,
                              difficulty="easy", price_paise=100, summary="x")  # fmt: skip
    with pytest.raises(ValidationError) as taken:
        await admin.update_field(TRIPS, other.id, "slug", "hampta-pass-trek", seen(other, "slug"), user)
    assert taken.value.errors == {"slug": "Another trip already uses this web address."}
    with pytest.raises(ValidationError) as shape:
        await admin.update_field(TRIPS, other.id, "slug", "Bhrigu Lake!", seen(other, "slug"), user)
    assert "lower-case" in shape.value.errors["slug"]
    with pytest.raises(ValidationError):
        await admin.create(DESTINATIONS, {"name": "Manali", "region": "HP", "description": ""}, user)
    spiti = await admin.create(DESTINATIONS, {"name": "Spiti Valley", "region": "HP", "description": ""}, user)
    assert spiti.slug == "spiti-valley"


async def test_list_trips_by_search_and_status(client):
    user, manali, trip = await setup_trip(is_published=True)
    await Trip.create(slug="secret", title="Secret Ridge", kind="trek", destination=manali, days=3,
                      difficulty="easy", price_paise=100, summary="x")  # fmt: skip
    assert [t.slug for t in await admin.list_trips()] == ["hampta-pass-trek", "secret"]
    assert [t.slug for t in await admin.list_trips(status="draft")] == ["secret"]
    assert [t.slug for t in await admin.list_trips(status="published")] == ["hampta-pass-trek"]
    assert [t.slug for t in await admin.list_trips(q="RIDGE")] == ["secret"]
    assert len(await admin.list_trips(q="manali")) == 2


async def test_publish_and_unpublish_with_audit(client):
    user, _, trip = await setup_trip()
    version = await current_version()
    assert (await admin.set_published(trip.id, True, user)).is_published
    assert (await admin.set_published(trip.id, True, user)).version == 2  # already published: no change
    await admin.set_published(trip.id, False, user)
    rows = await AuditLog.filter(entity="trip").order_by("id")
    assert [(r.action, r.from_state, r.to_state) for r in rows] == [
        ("publish", "draft", "published"), ("unpublish", "published", "draft")
    ]
    assert await current_version() == version + 2


async def test_itinerary_add_edit_reorder_remove(client):
    user, _, trip = await setup_trip()

    async def op(name, **kw):
        current = await Trip.get(id=trip.id)
        return await admin.change_itinerary(trip.id, name, Seen(current.version, admin.base(TRIPS, current, "itinerary")), user, **kw)

    await op("add", title="Rest day", details="Acclimatise.")
    await op("edit", day=2, title="Chika to Balu ka Ghera", details="Meadows.")
    await op("up", day=4)
    trip_now = await op("remove", day=1)
    assert trip_now.itinerary == [
        {"day": 1, "title": "Chika to Balu ka Ghera", "details": "Meadows."},
        {"day": 2, "title": "Rest day", "details": "Acclimatise."},
        {"day": 3, "title": "Day 3", "details": "Walk."},
    ]
    actions = [r.action for r in await AuditLog.filter(entity="trip").order_by("id")]
    assert actions == ["itinerary_add", "itinerary_edit", "itinerary_up", "itinerary_remove"]
    last = await AuditLog.filter(action="itinerary_remove").first()
    assert len(last.data["before"]["itinerary"]) == 4 and len(last.data["after"]["itinerary"]) == 3

    with pytest.raises(ValidationError) as bad:
        await op("add", title="", details="x")
    assert "day_title" in bad.value.errors
    with pytest.raises(NotFound):
        await op("remove", day=9)
    with pytest.raises(EditConflict) as conflict:  # drawn before the last change
        await admin.change_itinerary(trip.id, "remove", Seen(1, admin.base(TRIPS, trip, "itinerary")), user, day=1)
    assert conflict.value.by == "Priya Ops"


async def test_images_upload_reorder_cover_delete(client, tmp_path):
    user, _, trip = await setup_trip()
    store = LocalMediaStore(tmp_path / "media")
    for color in ((1, 1, 1), (2, 2, 2), (3, 3, 3)):
        trip = await admin.add_image(TRIPS, trip.id, image_bytes(color=color), f"photo {color[0]}", store, user)
    first, second, third = [i["id"] for i in trip.images]
    assert [i["alt"] for i in trip.images] == ["photo 1", "photo 2", "photo 3"]
    assert len(list((tmp_path / "media").iterdir())) == 9  # 320, 640 and 800 wide for each

    trip = await admin.move_image(TRIPS, trip.id, third, 0, user)  # cover
    assert [i["id"] for i in trip.images] == [third, first, second]
    trip = await admin.move_image(TRIPS, trip.id, first, +1, user)
    assert [i["id"] for i in trip.images] == [third, second, first]
    trip = await admin.delete_image(TRIPS, trip.id, second, store, user)
    assert [i["id"] for i in trip.images] == [third, first]
    assert len(list((tmp_path / "media").iterdir())) == 6

    with pytest.raises(ValidationError) as again:
        await admin.add_image(TRIPS, trip.id, image_bytes(color=(1, 1, 1)), "", store, user)
    assert again.value.errors == {"image": "This photo is already in the gallery."}
    assert len(list((tmp_path / "media").iterdir())) == 6  # still used: not deleted

    actions = [r.action for r in await AuditLog.filter(entity="trip").order_by("id")]
    assert actions == ["image_add"] * 3 + ["image_cover", "image_move", "image_delete"]
    row = await AuditLog.filter(action="image_delete").first()
    assert row.data == {"before": {"images": [third, second, first]}, "after": {"images": [third, first]}}


def test_uploads_are_checked_by_content():
    assert check_image(image_bytes("JPEG")) == (800, 500)
    assert check_image(image_bytes("WEBP", (20, 10))) == (20, 10)
    with pytest.raises(ValidationError) as gif:
        check_image(image_bytes("GIF"))
    assert gif.value.errors["image"] == "This file is a GIF image: upload a JPEG, PNG or WebP photo instead."
    with pytest.raises(ValidationError) as pdf:
        check_image(b"%PDF-1.4 a document")
    assert "not a JPEG, PNG or WebP image" in pdf.value.errors["image"]
    with pytest.raises(ValidationError) as big:
        check_image(image_bytes("PNG", (10, 10)) + b"\0" * (10 * 1024 * 1024))
    assert big.value.errors["image"] == "This file is 10.0 MB: images can be at most 10 MB."
    with pytest.raises(ValidationError) as empty:
        check_image(b"")
    assert empty.value.errors["image"] == "Choose an image file to upload."
