"""The local media store: WebP variants made once on upload, served under /media, used by pages."""

import io

import pytest
from PIL import Image

from tests.catalogue_data import make_catalogue
from yatri.errors import ValidationError
from yatri.keys import MediaKey
from yatri.models import Trip
from yatri.services.media import LocalMediaStore, src, srcset


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (11, 110, 79)).save(out, "PNG")
    return out.getvalue()


async def test_store_makes_three_webp_sizes_once(tmp_path):
    store = LocalMediaStore(tmp_path / "media")
    image = await store.store(png(1600, 1000), alt="Pass at dawn")
    assert [v["width"] for v in image["variants"]] == [320, 640, 1024]
    assert [v["height"] for v in image["variants"]] == [200, 400, 640]
    assert (image["width"], image["height"], image["alt"]) == (1024, 640, "Pass at dawn")
    files = sorted((tmp_path / "media").iterdir())
    assert len(files) == 3
    for variant in image["variants"]:
        path = store.path_of(variant["url"].removeprefix("/media/"))
        with Image.open(path) as saved:
            assert saved.format == "WEBP" and saved.width == variant["width"]
    assert srcset(image).split(", ")[0].endswith(" 320w") and src(image, 600).endswith("-640.webp")
    mtimes = [f.stat().st_mtime_ns for f in files]
    assert await store.store(png(1600, 1000)) == {**image, "alt": ""}  # same bytes: same files
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    await store.delete(image)
    assert not list((tmp_path / "media").iterdir())


async def test_small_images_are_not_enlarged_and_bad_uploads_refused(tmp_path):
    store = LocalMediaStore(tmp_path)
    small = await store.store(png(500, 250))
    assert [v["width"] for v in small["variants"]] == [320, 500]
    with pytest.raises(ValidationError) as bad_type:
        await store.store(b"%PDF-1.4")
    assert "image" in bad_type.value.errors
    with pytest.raises(ValidationError):
        await store.store(b"not really a png")
    assert store.path_of("../../etc/passwd") is None and store.path_of("x.webp") is None


async def test_pages_show_sized_lazy_responsive_images(client, app):
    trips = await make_catalogue()
    image = await app[MediaKey].store(png(1200, 800), alt="Hampta meadows")
    await Trip.filter(id=trips["hampta-pass-trek"].id).update(images=[image])
    html = await (await client.get("/trips?q=hampta")).text()
    assert f'srcset="{srcset(image)}"' in html
    assert 'width="1024" height="683" alt="Hampta meadows" loading="lazy"' in html
    served = await client.get(image["variants"][0]["url"])
    assert served.status == 200 and served.headers["Content-Type"] == "image/webp"
    assert "immutable" in served.headers["Cache-Control"]
    assert (await client.get("/media/0123456789abcdef01234567-320.webp")).status == 404
    assert (await client.get("/media/..%2F..%2Fsetup.cfg")).status == 404
