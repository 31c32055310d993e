"""/admin/trips and /admin/destinations over HTTP: inline edits with HTMX, the same
forms without JavaScript, conflicts, publishing, itinerary and photos."""

import io
import re

from aiohttp import ClientSession, CookieJar, FormData
from PIL import Image

from tests.catalogue_data import make_catalogue
from tests.helpers import csrf_in, login, make_user
from yatri.models import AuditLog, Destination, Role, Trip

HX = {"HX-Request": "true"}


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} in the form"
    return match.group(1)


async def admin_client(client, name="Priya Ops", email="ops@example.com"):
    user = await make_user(email, name=name, role=Role.ADMIN)
    token = await login(client, user)
    return user, token


async def open_field(client, path: str, headers=None) -> dict:
    """Open a field's edit form; returns what its form posts back unchanged."""
    response = await client.get(path + "/edit", headers=headers)
    assert response.status == 200
    html = await response.text()
    return {"csrf_token": csrf_in(html), "version": hidden(html, "version"), "base": hidden(html, "base"), "html": html}


async def test_inline_edit_swaps_form_and_display_fragments(client):
    trips = await make_catalogue()
    trip = trips["hampta-pass-trek"]
    user, _ = await admin_client(client)
    page = await (await client.get(f"/admin/trips/{trip.id}")).text()
    display = re.search(r'<div class="inline-field" id="field-price">.*?</div>', page, re.S).group(0)
    assert "₹9,950" in display and f'hx-get="/admin/trips/{trip.id}/fields/price/edit"' in display
    assert f'href="/admin/trips/{trip.id}/fields/price/edit"' in display  # the no-JS link

    path = f"/admin/trips/{trip.id}/fields/price"
    form = await open_field(client, path, HX)
    assert form["html"].lstrip().startswith("{# ") is False and "<html" not in form["html"]
    assert 'value="9950"' in form["html"] and f'hx-post="{path}"' in form["html"] and "autofocus" in form["html"]
    assert len(form["html"].encode()) < 8 * 1024

    saved = await client.post(path, data={**form, "price": "10,500", "html": ""}, headers=HX)
    html = await saved.text()
    assert saved.status == 200 and 'class="inline-field" id="field-price"' in html and "₹10,500" in html
    assert "<html" not in html
    assert (await Trip.get(id=trip.id)).price_paise == 1_050_000
    row = await AuditLog.get(entity="trip", entity_id=str(trip.id), action="edit")
    assert row.actor_id == user.id and row.data == {"before": {"price_paise": 995_000}, "after": {"price_paise": 1_050_000}}

    public = await (await client.get("/trips/hampta-pass-trek")).text()
    assert "₹11,025" in public  # the catalogue cache saw the change (with 5% GST)

    cancelled = await client.get(path, headers=HX)  # Cancel swaps the display back
    assert 'id="field-price"' in await cancelled.text() and "₹10,500" in await cancelled.text()


async def test_validation_error_is_shown_in_place_with_the_typed_value(client):
    trips = await make_catalogue()
    trip = trips["hampta-pass-trek"]
    await admin_client(client)
    path = f"/admin/trips/{trip.id}/fields/days"
    form = await open_field(client, path, HX)
    response = await client.post(path, data={**form, "days": "99", "html": ""}, headers=HX)
    html = await response.text()
    assert response.status == 422
    assert 'class="inline-edit" id="field-days"' in html and 'value="99"' in html and 'aria-invalid="true"' in html
    assert "Enter a whole number from 1 to 60." in html
    assert (await Trip.get(id=trip.id)).days == 5 and not await AuditLog.exists(action="edit")


async def test_conflict_names_who_changed_it_and_shows_both_values(client):
    trips = await make_catalogue()
    trip = trips["hampta-pass-trek"]
    await admin_client(client)
    path = f"/admin/trips/{trip.id}/fields/price"
    mine = await open_field(client, path, HX)

    # A second admin, in another browser.
    async with ClientSession(base_url=str(client.make_url("/")), cookie_jar=CookieJar(unsafe=True)) as other:
        await admin_client(other, name="Ravi Desk", email="ravi@example.com")
        theirs = await open_field(other, path, HX)
        assert (await other.post(path, data={**theirs, "price": "11000", "html": ""}, headers=HX)).status == 200

    response = await client.post(path, data={**mine, "price": "12000", "html": ""}, headers=HX)
    html = await response.text()
    assert response.status == 409
    assert "<strong>Ravi Desk</strong> changed the price per person (₹) while you were editing." in html
    assert '<dd class="theirs">₹11,000</dd>' in html and '<dd class="yours">₹12,000</dd>' in html
    assert 'value="12000"' in html  # the operator's value is kept in the input
    assert (await Trip.get(id=trip.id)).price_paise == 1_100_000

    again = {"csrf_token": mine["csrf_token"], "version": hidden(html, "version"), "base": hidden(html, "base")}
    assert again["version"] == "2"
    response = await client.post(path, data={**again, "price": "12000"}, headers=HX)  # save again: mine wins
    assert response.status == 200 and (await Trip.get(id=trip.id)).price_paise == 1_200_000


async def test_without_javascript_each_field_has_an_edit_page(client):
    trips = await make_catalogue()
    trip = trips["hampta-pass-trek"]
    await admin_client(client)
    path = f"/admin/trips/{trip.id}/fields/title"
    form = await open_field(client, path)
    page = form["html"]
    assert "<html" in page and "<h1>Title</h1>" in page and 'class="inline-edit" id="field-title"' in page
    assert "hx-post" not in page and f'action="{path}"' in page

    bad = await client.post(path, data={**form, "title": "  ", "html": ""})
    assert bad.status == 422 and "Enter the title." in await bad.text() and "<html" in await bad.text()

    saved = await client.post(path, data={**form, "title": "Hampta Pass Crossing", "html": ""}, allow_redirects=False)
    assert saved.status == 303 and saved.headers["Location"] == f"/admin/trips/{trip.id}#field-title"
    after = await (await client.get(saved.headers["Location"])).text()
    assert "Saved the title." in after and "Hampta Pass Crossing" in after

    cancel = await client.get(path, allow_redirects=False)
    assert cancel.status == 303 and cancel.headers["Location"].endswith("#field-title")


async def test_create_then_publish_and_unpublish_the_public_page(client):
    await make_catalogue()
    manali = await Destination.get(slug="manali")
    user, token = await admin_client(client)
    form = {"csrf_token": token, "title": "Chandratal Lake Camp", "slug": "", "kind": "tour", "destination": str(manali.id),
            "days": "3", "difficulty": "easy", "price": "6500", "summary": "Camp by the moon lake."}  # fmt: skip
    taken = await client.post("/admin/trips/new", data={**form, "slug": "hampta-pass-trek"})
    assert taken.status == 422 and "already uses this web address" in await taken.text()
    assert 'value="Chandratal Lake Camp"' in await taken.text()

    created = await client.post("/admin/trips/new", data=form, allow_redirects=False)
    trip = await Trip.get(slug="chandratal-lake-camp")
    assert created.status == 303 and created.headers["Location"] == f"/admin/trips/{trip.id}"
    assert (await client.get("/trips/chandratal-lake-camp")).status == 404  # a draft

    published = await client.post(f"/admin/trips/{trip.id}/publish", data={"csrf_token": token, "published": "1"}, headers=HX)
    assert 'id="publish"' in await published.text() and "Unpublish" in await published.text()
    assert (await client.get("/trips/chandratal-lake-camp")).status == 200
    plain = await client.post(f"/admin/trips/{trip.id}/publish", data={"csrf_token": token, "published": "0"}, allow_redirects=False)
    assert plain.status == 303 and plain.headers["Location"].endswith("#publish")
    assert (await client.get("/trips/chandratal-lake-camp")).status == 404
    actions = [r.action for r in await AuditLog.filter(entity_id=str(trip.id)).order_by("id")]
    assert actions == ["create", "publish", "unpublish"]


async def test_itinerary_editor_over_htmx_and_plain_posts(client):
    trips = await make_catalogue()
    trip = trips["bhrigu-lake-trek"]  # four days
    await admin_client(client)
    page = await (await client.get(f"/admin/trips/{trip.id}")).text()
    token, version, base = csrf_in(page), hidden(page, "version"), hidden(page, "base")
    path = f"/admin/trips/{trip.id}/itinerary"
    common = {"csrf_token": token, "version": version, "base": re.search(r'id="itinerary".*?name="base" value="([^"]+)"', page, re.S).group(1)}
    assert base  # the page has bases for every form

    added = await client.post(path, data={**common, "op": "add", "title": "Back to Manali", "details": "Drive."}, headers=HX)
    html = await added.text()
    assert added.status == 200 and html.lstrip().startswith('<section class="itinerary-editor" id="itinerary"')
    assert 'value="Back to Manali"' in html and "Add day 6" in html

    bad = await client.post(path, data={**common, "op": "edit", "day": "2", "title": "", "details": "x"}, headers=HX)
    assert bad.status == 422 and "Enter the title." in await bad.text()

    stale = await client.post(path, data={**common, "op": "up", "day": "5"}, headers=HX)  # drawn before the add
    assert stale.status == 409 and "changed the itinerary while you were editing" in await stale.text()
    fresh = {"csrf_token": token, "version": hidden(html, "version"), "base": hidden(html, "base")}
    moved = await client.post(path, data={**fresh, "op": "up", "day": "5"}, allow_redirects=False)
    assert moved.status == 303 and moved.headers["Location"].endswith("#itinerary")
    days = (await Trip.get(id=trip.id)).itinerary
    assert [d["title"] for d in days][3:] == ["Back to Manali", "Day 4 of Bhrigu Lake Trek"]
    assert [d["day"] for d in days] == [1, 2, 3, 4, 5]


def image_file(fmt="PNG", size=(900, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, fmt)
    return out.getvalue()


async def test_photos_upload_validate_cover_and_delete(client):
    trips = await make_catalogue()
    trip = trips["goa-carnival"]
    await admin_client(client)
    page = await (await client.get(f"/admin/trips/{trip.id}")).text()
    token = csrf_in(page)
    path = f"/admin/trips/{trip.id}/images"

    def upload(data: bytes, name: str, alt: str = ""):
        form = FormData()
        form.add_field("csrf_token", token)
        form.add_field("alt", alt)
        form.add_field("image", data, filename=name, content_type="image/jpeg")  # the name and type lie
        return form

    gif = await client.post(path, data=upload(image_file("GIF"), "floats.jpg", "Floats"), headers=HX)
    html = await gif.text()
    assert gif.status == 422 and "This file is a GIF image: upload a JPEG, PNG or WebP photo instead." in html
    assert 'value="Floats"' in html

    for alt in ("Floats", "Dancers"):
        ok = await client.post(path, data=upload(image_file(size=(900, 600 + len(alt))), "x.png", alt), headers=HX)
        assert ok.status == 200
    html = await ok.text()
    assert html.count("<img ") == 2 and 'alt="Dancers"' in html
    images = (await Trip.get(id=trip.id)).images
    served = await client.get(images[0]["variants"][0]["url"])
    assert served.status == 200 and served.content_type == "image/webp"

    cover = await client.post(f"{path}/arrange", data={"csrf_token": token, "image": images[1]["id"], "op": "cover"}, allow_redirects=False)
    assert cover.status == 303
    assert [i["alt"] for i in (await Trip.get(id=trip.id)).images] == ["Dancers", "Floats"]
    public = await (await client.get("/trips/goa-carnival")).text()
    assert 'alt="Dancers"' in public

    deleted = await client.post(f"{path}/arrange", data={"csrf_token": token, "image": images[1]["id"], "op": "delete"}, headers=HX)
    assert deleted.status == 200 and (await deleted.text()).count("<img ") == 1
    assert (await client.get(images[1]["variants"][0]["url"])).status == 404


async def test_lists_and_destinations(client):
    await make_catalogue()
    await admin_client(client)
    drafts = await (await client.get("/admin/trips?status=draft")).text()
    assert "Secret Trek" in drafts and "Hampta Pass Trek" not in drafts
    found = await (await client.get("/admin/trips?q=hampi")).text()
    assert "Hampi Ruins Walk" in found and "Goa Carnival" not in found

    goa = await Destination.get(slug="goa")
    listing = await (await client.get("/admin/destinations?q=konkan")).text()
    assert f'href="/admin/destinations/{goa.id}"' in listing and "Manali" not in listing
    path = f"/admin/destinations/{goa.id}/fields/name"
    form = await open_field(client, path, HX)
    saved = await client.post(path, data={**form, "name": "North Goa", "html": ""}, headers=HX)
    assert saved.status == 200 and "North Goa" in await saved.text()
    assert "North Goa" in await (await client.get("/destinations/goa")).text()
    assert await AuditLog.exists(entity="destination", entity_id=str(goa.id), action="edit")

    created = await client.post("/admin/destinations/new", data={"csrf_token": form["csrf_token"], "name": "Spiti", "region": "Himachal Pradesh", "description": ""}, allow_redirects=False)
    assert created.status == 303 and await Destination.exists(slug="spiti")
