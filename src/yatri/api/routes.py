"""Every API route, registered from one table that also writes the OpenAPI document."""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from yatri.api import auth, me
from yatri.api.openapi import Operation, document, handler
from yatri.keys import SettingsKey

OPERATIONS = [
    Operation("POST", "/api/v1/auth/token", auth.token, "Sign in with email and password", "auth",
              request="Credentials", response="TokenPair", errors=(401, 429)),
    Operation("POST", "/api/v1/auth/refresh", auth.refresh, "Trade a refresh token for a new pair", "auth",
              request="RefreshRequest", response="TokenPair", errors=(401,)),
    Operation("POST", "/api/v1/auth/logout", auth.logout, "Revoke a refresh token and its family", "auth",
              request="RefreshRequest", status=204),
    Operation("GET", "/api/v1/me", me.me, "The signed-in user", "me", response="User", auth=True),
]  # fmt: skip


def add_api_routes(app: web.Application) -> None:
    settings = app[SettingsKey]
    cors = aiohttp_cors.setup(
        app,
        defaults={
            origin: aiohttp_cors.ResourceOptions(
                allow_credentials=False,  # bearer tokens, never cookies
                allow_headers=("Authorization", "Content-Type", "If-Match"),
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
