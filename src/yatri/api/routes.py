"""Every API route, registered from one table that also writes the OpenAPI document."""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from yatri.api import admin, auth, bookings, catalogue, me, payments
from yatri.api.openapi import IDEMPOTENCY_KEY, IF_MATCH, TRIP_FILTERS, Operation, document, handler, path, query
from yatri.keys import SettingsKey

TRIP_ID = path("id", "The trip's id", {"type": "integer"})
DEPARTURE_ID = path("id", "The departure's id", {"type": "integer"})
REF = path("ref", "The booking reference, like YT-7K3Q9M")

OPERATIONS = [
    Operation("POST", "/api/v1/auth/token", auth.token, "Sign in with email and password", "auth",
              request="Credentials", response="TokenPair", errors=(401, 429)),
    Operation("POST", "/api/v1/auth/google", auth.google, "Trade a Google ID token for tokens", "auth",
              request="GoogleIdToken", response="TokenPair", errors=(401, 403, 404, 429, 503)),
    Operation("POST", "/api/v1/auth/refresh", auth.refresh, "Trade a refresh token for a new pair", "auth",
              request="RefreshRequest", response="TokenPair", errors=(401, 429)),
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
    Operation("POST", "/api/v1/bookings", bookings.create, "Hold seats on a departure for these travellers", "bookings",
              request="BookingRequest", response="BookingDetail", status=201, auth=True, errors=(404, 409),
              parameters=(IDEMPOTENCY_KEY,)),
    Operation("GET", "/api/v1/bookings", bookings.mine, "Your bookings: upcoming, past and ended", "bookings",
              response="BookingList", auth=True),
    Operation("GET", "/api/v1/bookings/{ref}", bookings.detail, "One of your bookings", "bookings",
              response="BookingDetail", auth=True, errors=(404,), parameters=(REF,)),
    Operation("POST", "/api/v1/bookings/{ref}/cancel", bookings.cancel, "Cancel a booking; a refund is due by the policy",
              "bookings", response="BookingDetail", auth=True, errors=(404, 409), parameters=(REF,)),
    Operation("GET", "/api/v1/bookings/{ref}/payment", payments.payment, "How to pay: the UPI link, its QR code, payments so far",
              "payments", response="PaymentInfo", auth=True, errors=(404,), parameters=(REF,)),
    Operation("POST", "/api/v1/bookings/{ref}/payment", payments.submit_utr, "Tell us the UTR of your UPI payment",
              "payments", request="UtrSubmission", response="PaymentInfo", status=201, auth=True, errors=(404, 409),
              parameters=(REF,)),
    Operation("GET", "/api/v1/admin/trips", admin.trips, "Every trip, drafts included", "admin", response="AdminTripList",
              auth=True, errors=(403, 422), parameters=(query("q", "Words in the title, slug or destination"),
                                                       query("status", "all, published or draft"))),
    Operation("POST", "/api/v1/admin/trips", admin.create_trip, "Create a trip (a draft)", "admin", request="TripInput",
              response="AdminTrip", status=201, auth=True, etag=True, errors=(403,)),
    Operation("GET", "/api/v1/admin/trips/{id}", admin.trip, "A trip as the operator sees it", "admin",
              response="AdminTrip", auth=True, etag=True, errors=(403, 404), parameters=(TRIP_ID,)),
    Operation("PATCH", "/api/v1/admin/trips/{id}", admin.update_trip, "Change trip fields", "admin", request="TripChange",
              response="AdminTrip", auth=True, etag=True, errors=(403, 404, 409, 412, 428), parameters=(TRIP_ID, IF_MATCH)),
    Operation("POST", "/api/v1/admin/trips/{id}/publish", admin.publish_trip, "Publish a trip", "admin",
              response="AdminTrip", auth=True, etag=True, errors=(403, 404), parameters=(TRIP_ID,)),
    Operation("POST", "/api/v1/admin/trips/{id}/unpublish", admin.unpublish_trip, "Take a trip off sale", "admin",
              response="AdminTrip", auth=True, etag=True, errors=(403, 404), parameters=(TRIP_ID,)),
    Operation("GET", "/api/v1/admin/trips/{id}/departures", admin.trip_departures, "A trip's departures", "admin",
              response="AdminDepartureList", auth=True, errors=(403, 404), parameters=(TRIP_ID,)),
    Operation("POST", "/api/v1/admin/trips/{id}/departures", admin.add_departure, "Add a departure", "admin",
              request="DepartureInput", response="AdminDeparture", status=201, auth=True, errors=(403, 404),
              parameters=(TRIP_ID,)),
    Operation("GET", "/api/v1/admin/departures/{id}", admin.departure, "A departure with its seats", "admin",
              response="AdminDeparture", auth=True, errors=(403, 404), parameters=(DEPARTURE_ID,)),
    Operation("PATCH", "/api/v1/admin/departures/{id}", admin.update_departure, "Change the capacity, close or reopen sales",
              "admin", request="DepartureChange", response="AdminDeparture", auth=True, errors=(403, 404, 409),
              parameters=(DEPARTURE_ID,)),
    Operation("POST", "/api/v1/admin/departures/{id}/cancel", admin.cancel_departure,
              "Cancel a departure: every live booking on it is cancelled with a full refund", "admin",
              request="DepartureCancel", optional_body=True, response="DepartureCancelled", auth=True,
              errors=(403, 404, 409), parameters=(DEPARTURE_ID,)),
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
