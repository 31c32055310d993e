"""Admin catalogue service: create, field edits with optimistic locking, publishing,
itinerary and images, each with its audit row and a catalogue version bump."""

import io

import pytest
from PIL import Image

from tests.helpers import make_user
from yatri.errors import NotFound, ValidationError
from yatri.models import AuditLog, Destination, Role, Trip
from yatri.services.admin_catalogue import gallery, records
from yatri.services.admin_catalogue.forms import DESTINATIONS, TRIPS, TripValues, base
from yatri.services.admin_catalogue.itinerary import Day, DayChange, change_itinerary
from yatri.services.admin_catalogue.records import EditConflict, Seen
from yatri.services.catalogue import current_version
from yatri.services.media import LocalMediaStore, check_image
from yatri.web.admin.forms import new_record


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
    return Seen(record.version, {name: base(TRIPS, record, name)})


async def create(entity, form, user):
    """As the create form does: its text read at the edge, then the service."""
    return await records.create(entity, await new_record(entity, form), user)


async def edit(trip_id, seen, user, **values):
    return await records.update_fields(TRIPS, trip_id, TripValues(**values), seen, user)


async def test_create_trip_reports_every_bad_field_and_keeps_slugs_unique(client):
    user, manali, _ = await setup_trip()
    with pytest.raises(ValidationError) as bad:
        await create(TRIPS, {"title": "", "kind": "cruise", "destination": "999", "days": "0", "price": "abc"}, user)
    assert set(bad.value.errors) == {"title", "slug", "kind", "destination", "days", "difficulty", "price", "summary"}
    assert "whole number from 1 to 60" in bad.value.errors["days"]
    assert "rupees" in bad.value.errors["price"]

    form = {"title": "Hampta Pass Trek", "kind": "trek", "destination": str(manali.id), "days": "5",
            "difficulty": "moderate", "price": "9,950.50", "summary": "Again."}  # fmt: skip
    with pytest.raises(ValidationError) as taken:  # the slug made from the title is taken
        await create(TRIPS, form, user)
    assert taken.value.errors == {"slug": "Another trip already uses this web address: choose another."}

    version = await current_version()
    trip = await create(TRIPS, {**form, "slug": "hampta-in-winter"}, user)
    assert (trip.slug, trip.price_paise, trip.is_published, trip.updated_by_id) == ("hampta-in-winter", 995_050, False, user.id)
    assert await current_version() == version + 1
    row = await AuditLog.get(entity="trip", entity_id=str(trip.id), action="create")
    assert row.actor_id == user.id and row.data["after"]["price_paise"] == 995_050 and row.data["before"] is None


async def test_edit_one_field_writes_audit_and_bumps_version(client):
    user, _, trip = await setup_trip()
    version = await current_version()
    edited = await edit(trip.id, seen(trip), user, price_paise=1_050_000)
    assert (edited.price_paise, edited.version, edited.updated_by.name) == (1_050_000, 2, "Priya Ops")
    assert await current_version() == version + 1
    row = await AuditLog.get(entity="trip", action="edit")
    assert row.data == {"before": {"price_paise": 995_000}, "after": {"price_paise": 1_050_000}}
    assert row.actor_id == user.id

    same = await edit(trip.id, seen(edited), user, price_paise=1_050_000)
    assert same.version == 2 and await AuditLog.filter(action="edit").count() == 1  # nothing changed

    with pytest.raises(ValidationError) as bad:
        await edit(trip.id, seen(edited), user, price_paise=-300)
    assert "price" in bad.value.errors
    with pytest.raises(ValidationError) as bad_days:
        await edit(trip.id, seen(edited, "days"), user, days=61)
    assert bad_days.value.errors == {"days": "Enter a whole number from 1 to 60."}
    assert (await Trip.get(id=trip.id)).version == 2


async def test_stale_save_of_a_changed_field_is_a_conflict_naming_who(client):
    priya, _, trip = await setup_trip()
    ravi = await make_user("ravi@example.com", name="Ravi Desk", role=Role.ADMIN)
    opened = seen(trip)  # both opened the price at version 1
    await edit(trip.id, opened, ravi, price_paise=1_100_000)
    with pytest.raises(EditConflict) as conflict:
        await edit(trip.id, opened, priya, price_paise=1_200_000)
    assert (conflict.value.by, conflict.value.theirs, conflict.value.yours) == ("Ravi Desk", "₹11,000", "₹12,000")
    assert conflict.value.status == 409 and conflict.value.version == 2
    assert "Ravi Desk changed the price" in conflict.value.detail
    assert (await Trip.get(id=trip.id)).price_paise == 1_100_000

    # A stale version is fine for a field nobody touched since, and for the same value.
    title = Seen(1, {"title": base(TRIPS, trip, "title")})
    assert (await edit(trip.id, title, priya, title="Hampta Pass")).title == "Hampta Pass"
    await edit(trip.id, opened, priya, price_paise=1_100_000)
    # Saving again from the conflict (the current version) keeps the operator's value.
    current = await Trip.get(id=trip.id)
    assert (await edit(trip.id, seen(current), priya, price_paise=1_200_000)).price_paise == 1_200_000


async def test_several_fields_change_together_or_not_at_all(client):
    priya, manali, trip = await setup_trip()
    await Trip.create(slug="bhrigu-lake", title="Bhrigu", kind="trek", destination=manali, days=3,
                      difficulty="easy", price_paise=100, summary="x")  # fmt: skip
    opened = Seen(trip.version, {name: base(TRIPS, trip, name) for name in ("title", "days", "price", "slug")})
    with pytest.raises(ValidationError) as taken:  # the second field is refused: the first is not saved either
        await edit(trip.id, opened, priya, price_paise=1_100_000, slug="bhrigu-lake")
    assert taken.value.errors == {"slug": "Another trip already uses this web address."}
    unchanged = await Trip.get(id=trip.id)
    assert (unchanged.price_paise, unchanged.slug, unchanged.version) == (995_000, "hampta-pass-trek", 1)
    assert not await AuditLog.exists(action="edit")

    ravi = await make_user("ravi@example.com", name="Ravi Desk", role=Role.ADMIN)
    await edit(trip.id, opened, ravi, days=6)
    with pytest.raises(EditConflict) as conflict:  # the days changed since: the title stays as it was
        await edit(trip.id, opened, priya, title="Hampta Pass", days=7)
    assert conflict.value.field == "days" and conflict.value.by == "Ravi Desk"
    assert ((await Trip.get(id=trip.id)).title, await AuditLog.filter(action="edit").count()) == ("Hampta Pass Trek", 1)

    current = await Trip.get(id=trip.id)
    fresh = Seen(current.version, {name: base(TRIPS, current, name) for name in ("title", "days")})
    version = await current_version()
    both = await edit(trip.id, fresh, priya, title="Hampta Pass", days=7)
    assert (both.title, both.days, both.version) == ("Hampta Pass", 7, current.version + 1)
    assert await current_version() == version + 1
    rows = await AuditLog.filter(action="edit", actor_id=priya.id).order_by("id")
    assert [r.data for r in rows] == [
        {"before": {"title": "Hampta Pass Trek"}, "after": {"title": "Hampta Pass"}},
        {"before": {"days": 6}, "after": {"days": 7}},
    ]


async def test_slug_edits_stay_unique(client):
    user, manali, trip = await setup_trip()
    other = await Trip.create(slug="bhrigu-lake", title="Bhrigu", kind="trek", destination=manali, days=3,
                              difficulty="easy", price_paise=100, summary="x")  # fmt: skip
    with pytest.raises(ValidationError) as taken:
        await edit(other.id, seen(other, "slug"), user, slug="hampta-pass-trek")
    assert taken.value.errors == {"slug": "Another trip already uses this web address."}
    with pytest.raises(ValidationError) as shape:
        await edit(other.id, seen(other, "slug"), user, slug="Bhrigu Lake!")
    assert "lower-case" in shape.value.errors["slug"]
    with pytest.raises(ValidationError):
        await create(DESTINATIONS, {"name": "Manali", "region": "HP", "description": ""}, user)
    spiti = await create(DESTINATIONS, {"name": "Spiti Valley", "region": "HP", "description": ""}, user)
    assert spiti.slug == "spiti-valley"


async def test_list_trips_by_search_and_status(client):
    user, manali, trip = await setup_trip(is_published=True)
    await Trip.create(slug="secret", title="Secret Ridge", kind="trek", destination=manali, days=3,
                      difficulty="easy", price_paise=100, summary="x")  # fmt: skip
    assert [t.slug for t in await records.list_trips()] == ["hampta-pass-trek", "secret"]
    assert [t.slug for t in await records.list_trips(status="draft")] == ["secret"]
    assert [t.slug for t in await records.list_trips(status="published")] == ["hampta-pass-trek"]
    assert [t.slug for t in await records.list_trips(q="RIDGE")] == ["secret"]
    assert len(await records.list_trips(q="manali")) == 2


async def test_publish_and_unpublish_with_audit(client):
    user, _, trip = await setup_trip()
    version = await current_version()
    assert (await records.set_published(trip.id, True, user)).is_published
    assert (await records.set_published(trip.id, True, user)).version == 2  # already published: no change
    await records.set_published(trip.id, False, user)
    rows = await AuditLog.filter(entity="trip").order_by("id")
    assert [(r.action, r.from_state, r.to_state) for r in rows] == [
        ("publish", "draft", "published"), ("unpublish", "published", "draft")
    ]
    assert await current_version() == version + 2


async def test_itinerary_add_edit_reorder_remove(client):
    user, _, trip = await setup_trip()

    async def op(name, number=0, **day):
        current = await Trip.get(id=trip.id)
        opened = Seen(current.version, {"itinerary": base(TRIPS, current, "itinerary")})
        return await change_itinerary(trip.id, DayChange(name), opened, user, number=number, day=Day(**day))

    await op("add", title="Rest day", details="Acclimatise.")
    await op("edit", 2, title="Chika to Balu ka Ghera", details="Meadows.")
    await op("up", 4)
    trip_now = await op("remove", 1)
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
        await op("remove", 9)
    with pytest.raises(EditConflict) as conflict:  # drawn before the last change
        await change_itinerary(trip.id, DayChange.REMOVE, Seen(1, {"itinerary": base(TRIPS, trip, "itinerary")}), user, number=1)
    assert conflict.value.by == "Priya Ops"


async def test_images_upload_reorder_cover_delete(client, tmp_path):
    user, _, trip = await setup_trip()
    store = LocalMediaStore(tmp_path / "media")
    for color in ((1, 1, 1), (2, 2, 2), (3, 3, 3)):
        trip = await gallery.add_image(TRIPS, trip.id, image_bytes(color=color), f"photo {color[0]}", store, user)
    first, second, third = [i["id"] for i in trip.images]
    assert [i["alt"] for i in trip.images] == ["photo 1", "photo 2", "photo 3"]
    assert len(list((tmp_path / "media").iterdir())) == 9  # 320, 640 and 800 wide for each

    trip = await gallery.move_image(TRIPS, trip.id, third, 0, user)  # cover
    assert [i["id"] for i in trip.images] == [third, first, second]
    trip = await gallery.move_image(TRIPS, trip.id, first, +1, user)
    assert [i["id"] for i in trip.images] == [third, second, first]
    trip = await gallery.delete_image(TRIPS, trip.id, second, store, user)
    assert [i["id"] for i in trip.images] == [third, first]
    assert len(list((tmp_path / "media").iterdir())) == 6

    with pytest.raises(ValidationError) as again:
        await gallery.add_image(TRIPS, trip.id, image_bytes(color=(1, 1, 1)), "", store, user)
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
