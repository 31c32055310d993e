"""Every API route, registered from one table that also writes the OpenAPI document."""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from yatri.api import auth, catalogue, me
from yatri.api.openapi import IF_MATCH, TRIP_FILTERS, Operation, document, handler, path
from yatri.keys import SettingsKey

OPERATIONS = [
    Operation("POST", "/api/v1/auth/token", auth.token, "Sign in with email and password", "auth",
              request="Credentials", response="TokenPair", errors=(401, 429)),
    Operation("POST", "/api/v1/auth/refresh", auth.refresh, "Trade a refresh token for a new pair", "auth",
              request="RefreshRequest", response="TokenPair", errors=(401,)),
    Operation("POST", "/api/v1/auth/logout", auth.logout, "Revoke a refresh token and its family", "auth",
              request="RefreshRequest", status=204),
    Operation("GET", "/api/v1/me", me.me, "The signed-in user", "me", response="User", auth=True, etag=True),
    Operation("PATCH", "/api/v1/me", me.update_me, "Change your name or phone", "me", request="ProfileChange",
              response="User", auth=True, etag=True, errors=(412, 428), parameters=(IF_MATCH,)),
    Operation("GET", "/api/v1/trips", catalogue.trips, "Published trips, filtered and sorted like /trips", "catalogue",
              response="TripList", errors=(422,), parameters=TRIP_FILTERS),
    Operation("GET", "/api/v1/trips/{slug}", catalogue.trip, "A published trip with its upcoming departures", "catalogue",
              response="TripDetail", errors=(404,), parameters=(path("slug", "The trip's slug"),)),
    Operation("GET", "/api/v1/destinations", catalogue.destinations, "Every destination", "catalogue",
              response="DestinationList"),
    Operation("GET", "/api/v1/destinations/{slug}", catalogue.destination, "A destination and its published trips",
              "catalogue", response="DestinationDetail", errors=(404,), parameters=(path("slug", "The destination's slug"),)),
]  # fmt: skip


def add_api_routes(app: web.Application) -> None:
    settings = app[SettingsKey]
    cors = aiohttp_cors.setup(
        app,
        defaults={
            origin: aiohttp_cors.ResourceOptions(
                allow_credentials=False,  # bearer tokens, never cookies
                allow_headers=("Authorization", "Content-Type", "If-Match", "Idempotency-Key"),
                expose_headers=("ETag", "Location", "Retry-After", "WWW-Authenticate"),
                max_age=3600,
            )
            for origin in settings.cors_origins
        },
    )
    for op in OPERATIONS:
        cors.add(app.router.add_route(op.method, op.path, op.handler))
    doc = document(OPERATIONS, settings.base_url)
    cors.add(app.router.add_get("/api/openapi.json", handler(doc)))
