"""Who is asking: the client's address (behind trusted reverse proxies too), and the
per-client rate limit."""

from __future__ import annotations

import ipaddress

from aiohttp import web

from yatri.keys import SettingsKey
from yatri.services import limits
from yatri.web.clock import now

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address(request: web.Request) -> str:
    """The connection's peer address; when the peer is one of TRUSTED_PROXIES, the
    right-most address in X-Forwarded-For that is not itself a trusted proxy (each proxy
    appends the address it was called from, so entries left of that one are the client's
    own claims). Used by the login throttle, the rate limit and the access log."""
    peer = request.remote or ""
    trusted = request.app[SettingsKey].trusted_proxies
    address = _parse(peer)
    if address is None or not _in_any(address, trusted):
        return peer
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    for hop in reversed(hops):
        hop_address = _parse(hop.strip())
        if hop_address is None:  # not an address: nothing left of it can be believed either
            break
        address = hop_address
        if not _in_any(address, trusted):
            break
    return str(address)


def forwarded_scheme(request: web.Request) -> str | None:
    """The scheme the client used, when the peer is one of TRUSTED_PROXIES and says so in
    X-Forwarded-Proto (the last value: the nearest proxy's); None otherwise."""
    peer = _parse(request.remote or "")
    if peer is None or not _in_any(peer, request.app[SettingsKey].trusted_proxies):
        return None
    scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return scheme if scheme in ("http", "https") else None


@web.middleware
async def forwarded_proto(request: web.Request, handler):
    """Behind a trusted proxy the request has the client's scheme, so `request.secure`
    and `request.url` (Secure cookies, absolute URLs) are right. In production a client
    that reached the proxy over plain HTTP is sent to BASE_URL (not to its Host header)."""
    scheme = forwarded_scheme(request)
    if scheme is None:
        return await handler(request)
    settings = request.app[SettingsKey]
    if scheme == "http" and settings.production:
        raise web.HTTPPermanentRedirect(settings.base_url + request.path_qs)
    return await handler(request.clone(scheme=scheme))


def client_in(request: web.Request, networks) -> bool:
    """Whether the client (as client_address names it) is in one of `networks`."""
    address = _parse(client_address(request))
    return address is not None and _in_any(address, networks)


def _parse(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.1 is 10.0.0.1
    return mapped or address


def _in_any(address: IpAddress, networks) -> bool:
    return any(address in network for network in networks)


def costly(handler):
    """Mark a form post handler (sign-up, booking, UTR) for the forms rate limit."""
    handler.rate_bucket = "forms"
    return handler


@web.middleware
async def rate_limit(request: web.Request, handler):
    """Count every /api/ request and every post to a `costly` handler against the client's
    per-minute limit (RATE_LIMIT_API_PER_MINUTE, RATE_LIMIT_FORMS_PER_MINUTE): 429 past it."""
    settings = request.app[SettingsKey]
    if request.path.startswith("/api/"):
        await limits.count_request("api", client_address(request), settings.rate_limit_api_per_minute, now(request))
    elif request.method == "POST" and getattr(request.match_info.handler, "rate_bucket", None) == "forms":
        await limits.count_request("forms", client_address(request), settings.rate_limit_forms_per_minute, now(request))
    return await handler(request)
