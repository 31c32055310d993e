"""Images: one small interface, a local-disk store as the embedded default.

A store turns uploaded bytes into an *image dict*, the value kept in the `images` JSON
lists of destinations and trips:

    {"id": "3f9c…", "alt": "…", "width": 1024, "height": 683,
     "variants": [{"width": 320, "height": 213, "url": "/media/3f9c…-320.webp"}, …]}

`width`/`height` are those of the largest variant; templates use `srcset(image)` and
`src(image)` and never build URLs themselves, so a Cloudinary store (admin issue) only has
to return the same dict shape from `store` and accept the same dict in `delete`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from pathlib import Path
from typing import Protocol

from PIL import Image, UnidentifiedImageError

from yatri.errors import ValidationError

WIDTHS = (320, 640, 1024)
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
_NAME = re.compile(r"^[0-9a-f]{24}-(\d{3,4})\.webp$")


class MediaStore(Protocol):
    async def store(self, data: bytes, content_type: str, alt: str = "") -> dict: ...

    async def delete(self, image: dict) -> None: ...


def srcset(image: dict) -> str:
    return ", ".join(f"{v['url']} {v['width']}w" for v in image.get("variants", []))


def src(image: dict, width: int = 640) -> str:
    """The URL of the smallest variant at least `width` wide (or the largest there is)."""
    variants = sorted(image.get("variants", []), key=lambda v: v["width"])
    if not variants:
        return image.get("url", "")
    return next((v["url"] for v in variants if v["width"] >= width), variants[-1]["url"])


def _check(data: bytes, content_type: str) -> None:
    if content_type not in ACCEPTED_TYPES:
        raise ValidationError({"image": "Upload a JPEG, PNG, WebP or GIF image."})
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError({"image": f"Images must be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."})


def _resize(data: bytes) -> list[tuple[int, int, bytes]]:
    """WebP variants (width, height, bytes), never wider than the original."""
    try:
        with Image.open(io.BytesIO(data)) as original:
            if original.width * original.height > MAX_PIXELS:
                raise ValidationError({"image": "That image has too many pixels."})
            original.load()
            image = original.convert("RGBA" if original.mode in ("RGBA", "LA", "P") else "RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationError({"image": "That file is not an image we can read."}) from None
    variants = []
    widths = [w for w in WIDTHS if w < image.width] + [min(image.width, WIDTHS[-1])]
    for width in sorted(set(widths)):
        height = max(1, round(image.height * width / image.width))
        resized = image.resize((width, height), Image.Resampling.LANCZOS) if width != image.width else image
        out = io.BytesIO()
        resized.save(out, "WEBP", quality=78, method=4)
        variants.append((width, height, out.getvalue()))
    return variants


class LocalMediaStore:
    """Variants written once, on upload, under `root`; served read-only under `url_prefix`.

    File names carry a content hash, so they can be cached for a year.
    """

    def __init__(self, root: Path, url_prefix: str = "/media/") -> None:
        self.root = root
        self.url_prefix = url_prefix
        root.mkdir(parents=True, exist_ok=True)

    async def store(self, data: bytes, content_type: str, alt: str = "") -> dict:
        _check(data, content_type)
        variants = await asyncio.to_thread(_resize, data)
        image_id = hashlib.sha256(data).hexdigest()[:24]
        listed = []
        for width, height, body in variants:
            name = f"{image_id}-{width}.webp"
            await asyncio.to_thread(self._write, name, body)
            listed.append({"width": width, "height": height, "url": self.url_prefix + name})
        largest = listed[-1]
        return {"id": image_id, "alt": alt, "width": largest["width"], "height": largest["height"], "variants": listed}

    async def delete(self, image: dict) -> None:
        for variant in image.get("variants", []):
            name = variant["url"].removeprefix(self.url_prefix)
            if _NAME.match(name):
                (self.root / name).unlink(missing_ok=True)

    def path_of(self, name: str) -> Path | None:
        """The file for a URL name, or None for anything that is not a variant we made."""
        if not _NAME.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def _write(self, name: str, body: bytes) -> None:
        path = self.root / name
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(body)
            tmp.replace(path)
