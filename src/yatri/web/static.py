"""Static files with a content hash in the URL, cached for a year, gzipped once at start."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

ONE_YEAR = 365 * 24 * 3600
_TEXT_TYPES = ("text/", "application/javascript", "image/svg+xml", "application/json")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    content_type: str
    digest: str


class StaticAssets:
    """Every file under static/ read into memory: the folder is small and never changes at run time.

    `url("css/site.css")` gives `/static/css/site.css?v=<hash>`; a request with the current
    hash is cached for a year, any other for a minute.
    """

    def __init__(self, root: Path) -> None:
        self._assets: dict[str, Asset] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            body = path.read_bytes()
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            gzipped = gzip.compress(body, 9, mtime=0) if content_type.startswith(_TEXT_TYPES) else None
            digest = hashlib.sha256(body).hexdigest()[:12]
            self._assets[path.relative_to(root).as_posix()] = Asset(body, gzipped, content_type, digest)

    def url(self, name: str) -> str:
        asset = self._assets.get(name)
        if asset is None:
            raise KeyError(f"no static file {name!r}; did `make setup` copy the vendor files?")
        return f"/static/{name}?v={asset.digest}"

    async def handle(self, request: web.Request) -> web.Response:
        asset = self._assets.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound()
        current = request.query.get("v") == asset.digest
        headers = {
            "Cache-Control": f"public, max-age={ONE_YEAR}, immutable" if current else "public, max-age=60",
            "ETag": f'"{asset.digest}"',
            "Vary": "Accept-Encoding",
        }
        if request.headers.get("If-None-Match") == headers["ETag"]:
            return web.Response(status=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, content_type=asset.content_type, headers=headers)
