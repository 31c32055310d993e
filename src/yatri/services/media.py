"""Images: one small interface, a local-disk store as the embedded default.

A store turns uploaded bytes into an *image dict*, the value kept in the `images` JSON
lists of destinations and trips:

    {"id": "3f9c…", "alt": "…", "width": 1024, "height": 683,
     "variants": [{"width": 320, "height": 213, "url": "/media/3f9c…-320.webp"}, …]}

`width`/`height` are those of the largest variant; templates use `srcset(image)` and
`src(image)` and never build URLs themselves. `CloudinaryMediaStore` (chosen when
CLOUDINARY_URL is set) returns the same shape, with Cloudinary delivery URLs and the
`public_id` it needs to delete the image.

Uploads are checked by their content, never by the name or type the browser sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary.exceptions
import cloudinary.uploader
import cloudinary.utils
import urllib3.exceptions
from PIL import Image, UnidentifiedImageError

from yatri.errors import ValidationError

WIDTHS = (320, 640, 1024)
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
_NAME = re.compile(r"^[0-9a-f]{24}-([0-9]{3,4})\.webp$")

log = logging.getLogger("yatri.media")


class MediaStore(Protocol):
    async def store(self, data: bytes, alt: str = "") -> dict: ...

    async def delete(self, image: dict) -> None: ...


def store_for(cloudinary_url: str, var_dir: Path) -> MediaStore:
    """Cloudinary when CLOUDINARY_URL is set, else the local store under var/media."""
    return CloudinaryMediaStore(cloudinary_url) if cloudinary_url else LocalMediaStore(var_dir / "media")


def srcset(image: dict) -> str:
    return ", ".join(f"{v['url']} {v['width']}w" for v in image.get("variants", []))


def src(image: dict, width: int = 640) -> str:
    """The URL of the smallest variant at least `width` wide (or the largest there is)."""
    variants = sorted(image.get("variants", []), key=lambda v: v["width"])
    if not variants:
        return image.get("url", "")
    return next((v["url"] for v in variants if v["width"] >= width), variants[-1]["url"])


def check_image(data: bytes) -> tuple[int, int]:
    """The (width, height) of an upload that is a readable JPEG, PNG or WebP of at most
    10 MB; anything else raises ValidationError with a message for the operator."""
    if not data:
        raise ValidationError({"image": "Choose an image file to upload."})
    if len(data) > MAX_UPLOAD_BYTES:
        size = f"{len(data) / (1024 * 1024):.1f}"
        raise ValidationError({"image": f"This file is {size} MB: images can be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."})
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        kind = None
    if kind is None:
        raise ValidationError({"image": "This file is not a JPEG, PNG or WebP image. Upload a photo in one of those formats."})
    if kind not in ACCEPTED_FORMATS:
        raise ValidationError({"image": f"This file is a {kind} image: upload a JPEG, PNG or WebP photo instead."})
    if size[0] * size[1] > MAX_PIXELS:
        raise ValidationError({"image": "That image has too many pixels."})
    return size


def _resize(data: bytes) -> list[tuple[int, int, bytes]]:
    """WebP variants (width, height, bytes), never wider than the original."""
    try:
        with Image.open(io.BytesIO(data)) as original:
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

    async def store(self, data: bytes, alt: str = "") -> dict:
        check_image(data)
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


class ImageServiceFailed(ValidationError):
    """Cloudinary did not answer in time, could not be reached, or answered with an error:
    a message next to the upload field; nothing was saved."""

    def __init__(self, message: str = "The image service did not answer; nothing was saved. Try again.") -> None:
        super().__init__({"image": message})


# What the SDK raises for an unreachable, stalled or refusing service: its own Error (which
# wraps urllib3's errors and carries Cloudinary's error JSON), urllib3's and the socket's.
_SDK_FAILURES = (cloudinary.exceptions.Error, urllib3.exceptions.HTTPError, OSError)


class CloudinaryMediaStore:
    """Uploads originals to Cloudinary with its SDK; Cloudinary resizes on delivery.

    `url` is CLOUDINARY_URL, `cloudinary://API_KEY:API_SECRET@CLOUD_NAME`; query
    parameters are passed on as SDK options (the tests set `upload_prefix` to reach a
    local server). Options go with each call, never into the SDK's global config.
    The SDK is synchronous, so it runs in a thread. Each call gets `timeout` seconds: the
    SDK's own (urllib3's connect and read timeouts, so the thread ends) and a bound on the
    await (a server that trickles bytes never holds the request longer).
    """

    def __init__(self, url: str, folder: str = "yatri", *, timeout: float = 10) -> None:
        parts = urlsplit(url)
        if parts.scheme != "cloudinary" or not (parts.username and parts.password and parts.hostname):
            raise ValueError("CLOUDINARY_URL must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        self.options = {
            "cloud_name": parts.hostname,
            "api_key": unquote(parts.username),
            "api_secret": unquote(parts.password),
            **dict(parse_qsl(parts.query)),
            "timeout": timeout,
        }
        self.folder = folder
        self.timeout = timeout

    async def _call(self, function, *args, **options) -> dict:
        try:
            async with asyncio.timeout(self.timeout):
                result = await asyncio.to_thread(function, *args, **options, **self.options)
        except TimeoutError:
            log.warning("cloudinary %s: no answer within %s s", function.__name__, self.timeout)
            raise ImageServiceFailed() from None
        except _SDK_FAILURES as exc:
            log.warning("cloudinary %s failed: %s", function.__name__, exc)
            raise ImageServiceFailed() from None
        return result

    async def store(self, data: bytes, alt: str = "") -> dict:
        check_image(data)
        result = await self._call(cloudinary.uploader.upload, data, folder=self.folder, resource_type="image")
        try:
            public_id, width, height = str(result["public_id"]), int(result["width"]), int(result["height"])
        except (KeyError, TypeError, ValueError):
            log.warning("cloudinary upload answered without public_id, width and height: %r", result)
            raise ImageServiceFailed() from None
        widths = [w for w in WIDTHS if w < width] + [min(width, WIDTHS[-1])]
        variants = [
            {"width": w, "height": max(1, round(height * w / width)), "url": self.url(public_id, w, result.get("version"))}
            for w in sorted(set(widths))
        ]
        largest = variants[-1]
        return {
            "id": public_id, "public_id": public_id, "alt": alt,
            "width": largest["width"], "height": largest["height"], "variants": variants,
        }  # fmt: skip

    async def delete(self, image: dict) -> None:
        """Called once the record no longer shows the image: a failure is logged, never raised
        (the change is saved; the file stays on Cloudinary)."""
        if image.get("public_id"):
            try:
                await self._call(cloudinary.uploader.destroy, image["public_id"], invalidate=True)
            except ImageServiceFailed:
                log.warning("cloudinary kept %s: delete it in the Media Library", image["public_id"])

    def url(self, public_id: str, width: int, version: int | str | None = None) -> str:
        """A delivery URL in the browser's best format and an automatic quality, `width` wide."""
        transformation = {"fetch_format": "auto", "quality": "auto", "width": width, "crop": "limit"}
        url, _ = cloudinary.utils.cloudinary_url(
            public_id, cloud_name=self.options["cloud_name"], secure=True, version=version,
            transformation=[transformation],
        )  # fmt: skip
        return url
