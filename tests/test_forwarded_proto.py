"""X-Forwarded-Proto is believed only from TRUSTED_PROXIES: a request a trusted proxy
received over HTTPS gets a Secure session cookie even outside production, and in
production one it received over plain HTTP is sent to BASE_URL over HTTPS. (The test
client connects from 127.0.0.1.)"""

from __future__ import annotations

import dataclasses

from yatri.app import create_app

PRODUCTION = {"env": "production", "secret_key": "a-test-secret-key-that-is-long-enough-0123456789", "base_url": "https://book.example.in"}


async def client_for(aiohttp_client, settings, **changes):
    return await aiohttp_client(create_app(dataclasses.replace(settings, **changes)))


async def fresh(client, path: str = "/login", **headers):
    """A request as a new visitor (no cookie yet), so the answer sets one."""
    client.session.cookie_jar.clear()
    return await client.get(path, headers=headers, allow_redirects=False)


def secure_cookie(response) -> bool:
    return "Secure" in response.headers["Set-Cookie"]


async def test_https_at_a_trusted_proxy_makes_the_cookie_secure(aiohttp_client, settings):
    client = await client_for(aiohttp_client, settings, trusted_proxies=("127.0.0.1",))
    assert secure_cookie(await fresh(client, **{"X-Forwarded-Proto": "https"}))
    assert secure_cookie(await fresh(client, **{"X-Forwarded-Proto": "http, HTTPS"}))  # the nearest proxy's
    for plain in ({}, {"X-Forwarded-Proto": "http"}, {"X-Forwarded-Proto": "gopher"}, {"X-Forwarded-Proto": "https, http"}):
        response = await fresh(client, **plain)
        assert response.status == 200 and not secure_cookie(response), plain


async def test_an_untrusted_peer_cannot_claim_https(aiohttp_client, settings):
    client = await client_for(aiohttp_client, settings, trusted_proxies=("10.0.0.0/8",))
    assert not secure_cookie(await fresh(client, **{"X-Forwarded-Proto": "https"}))


async def test_production_sends_plain_http_at_the_proxy_to_https(aiohttp_client, settings):
    client = await client_for(aiohttp_client, settings, trusted_proxies=("127.0.0.1",), **PRODUCTION)
    response = await fresh(client, "/trips?page=2", **{"X-Forwarded-Proto": "http"})
    assert response.status == 308
    assert response.headers["Location"] == "https://book.example.in/trips?page=2"  # BASE_URL, not the Host header
    response = await fresh(client, **{"X-Forwarded-Proto": "https"})
    assert response.status == 200 and secure_cookie(response)
    # Without the header (a health check on the app's own port) nothing is redirected.
    assert (await fresh(client, "/healthz")).status == 200


async def test_production_ignores_an_untrusted_peers_claim(aiohttp_client, settings):
    client = await client_for(aiohttp_client, settings, **PRODUCTION)
    response = await fresh(client, **{"X-Forwarded-Proto": "http"})
    assert response.status == 200 and secure_cookie(response)  # production cookies are always Secure
