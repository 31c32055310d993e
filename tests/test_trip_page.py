"""The trip page sells: "from" price and Book before the photos, key facts, the gallery of
every photo, the operator's contact from settings, a price-and-book bar for phones."""

from __future__ import annotations

from yatri.models import Departure, Trip

from tests.catalogue_data import make_catalogue


def _image(name: str) -> dict:
    return {"id": name, "alt": f"Photo {name}", "width": 1024, "height": 576, "variants": [
        {"url": f"/media/{name}-640.webp", "width": 640, "height": 360}, {"url": f"/media/{name}-1024.webp", "width": 1024, "height": 576},
    ]}  # fmt: skip


async def test_price_and_book_come_before_the_photo_then_gallery_and_contact(client):
    await make_catalogue()
    trip = await Trip.get(slug="hampta-pass-trek")
    trip.images = [_image("a"), _image("b"), _image("c")]
    await trip.save()
    first = await Departure.filter(trip=trip).order_by("starts_on").first()
    html = await (await client.get("/trips/hampta-pass-trek")).text()
    buy, hero = html.index('class="buy"'), html.index('class="hero-img"')
    assert buy < hero < html.index("Day by day") < html.index("Cancellation policy")
    assert "from</span> <strong>₹10,447.50</strong>" in html  # 9,950 with 5 % GST
    assert html.index(f'href="/departures/{first.id}/book"') < hero
    assert "Groups of up to 10" in html and "5 days" in html and "Difficulty: moderate" in html
    gallery = html[html.index('class="trip-gallery"'):]
    assert 'src="/media/b-640.webp"' in gallery and 'src="/media/c-640.webp"' in gallery and 'loading="lazy"' in gallery
    assert 'width="1024" height="576"' in gallery
    assert 'href="tel:+919876543210"' in html and 'href="https://wa.me/919876543210?text=About%20Hampta%20Pass%20Trek"' in html
    assert 'href="mailto:hello@yatri.example?subject=Hampta%20Pass%20Trek"' in html
    assert 'class="buy-bar"' in html


async def test_no_open_dates_no_book_link_and_no_bar(client):
    await make_catalogue()
    await Departure.filter(trip__slug="goa-carnival").update(sales_closed=True)
    from yatri.services import catalogue

    await catalogue.bump_version()
    html = await (await client.get("/trips/goa-carnival")).text()
    assert "No dates open right now." in html and 'class="buy-bar"' not in html
    assert "₹3,150" in html  # the trip's own price with GST
