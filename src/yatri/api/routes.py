"""Every API route in one table: it registers the handlers and writes the OpenAPI document."""

from __future__ import annotations

import aiohttp_cors
from aiohttp import web

from yatri.api import admin, auth, bookings, catalogue, me, payments
from yatri.api import models as m
from yatri.api.admin_values import trip_context
from yatri.api.contract import Param, Route, endpoint
from yatri.api.openapi import document, handler
from yatri.keys import SettingsKey

TRIP_ID = Param("id", "The trip's id", kind=int)
DEPARTURE_ID = Param("id", "The departure's id", kind=int)
REF = Param("ref", "The booking reference, like YT-7K3Q9M")
IF_MATCH = Param("If-Match", 'The ETag you read, like "v3" (or * to overwrite whatever is there)', "header")
IDEMPOTENCY_KEY = Param(
    "Idempotency-Key", "Any unique string (a UUID): a retry with the same key returns the same booking", "header", required=False
)

ROUTES = [
    Route("POST", "/api/v1/auth/token", auth.token, "Sign in with email and password", "auth",
          body=m.Credentials, response=m.TokenPair, errors=(401, 429)),
    Route("POST", "/api/v1/auth/google", auth.google, "Trade a Google ID token for tokens", "auth",
          body=m.GoogleIdToken, response=m.TokenPair, errors=(401, 403, 404, 429, 503)),
    Route("POST", "/api/v1/auth/refresh", auth.refresh, "Trade a refresh token for a new pair", "auth",
          body=m.RefreshRequest, response=m.TokenPair, errors=(401, 429)),
    Route("POST", "/api/v1/auth/logout", auth.logout, "Revoke a refresh token and its family", "auth",
          body=m.RefreshRequest, status=204),
    Route("GET", "/api/v1/me", me.me, "The signed-in user", "me", response=m.User, auth="user", etag=True),
    Route("PATCH", "/api/v1/me", me.update_me, "Change your name or phone", "me", body=m.ProfileChange,
          response=m.User, auth="user", etag=True, errors=(412, 428), params=(IF_MATCH,)),
    Route("GET", "/api/v1/trips", catalogue.trips, "Published trips, filtered and sorted like /trips", "catalogue",
          query=m.TripQuery, response=m.TripList),
    Route("GET", "/api/v1/trips/{slug}", catalogue.trip, "A published trip with its upcoming departures", "catalogue",
          response=m.TripDetail, errors=(404,), params=(Param("slug", "The trip's slug"),)),
    Route("GET", "/api/v1/destinations", catalogue.destinations, "Every destination", "catalogue",
          response=m.DestinationList),
    Route("GET", "/api/v1/destinations/{slug}", catalogue.destination, "A destination and its published trips",
          "catalogue", response=m.DestinationDetail, errors=(404,), params=(Param("slug", "The destination's slug"),)),
    Route("POST", "/api/v1/bookings", bookings.create, "Hold seats on a departure for these travellers", "bookings",
          body=m.BookingRequest, response=m.BookingDetail, status=201, auth="user", errors=(404, 409),
          params=(IDEMPOTENCY_KEY,)),
    Route("POST", "/api/v1/quotes", bookings.quote, "What a booking would cost now, before holding seats", "bookings",
          body=m.QuoteRequest, response=m.Quote, errors=(404, 409)),
    Route("GET", "/api/v1/bookings", bookings.mine, "Your bookings: upcoming, past and ended", "bookings",
          response=m.BookingList, auth="user"),
    Route("GET", "/api/v1/bookings/{ref}", bookings.detail, "One of your bookings", "bookings",
          response=m.BookingDetail, auth="user", errors=(404,), params=(REF,)),
    Route("POST", "/api/v1/bookings/{ref}/cancel", bookings.cancel, "Cancel a booking; a refund is due by the policy",
          "bookings", response=m.BookingDetail, auth="user", errors=(404, 409), params=(REF,)),
    Route("GET", "/api/v1/bookings/{ref}/payment", payments.payment,
          "How to pay: the UPI link, its QR code, payments so far", "payments", response=m.PaymentInfo, auth="user",
          errors=(404,), params=(REF,)),
    Route("POST", "/api/v1/bookings/{ref}/payment", payments.submit_utr, "Tell us the UTR of your UPI payment",
          "payments", body=m.UtrSubmission, response=m.PaymentInfo, status=201, auth="user", errors=(404, 409),
          params=(REF,)),
    Route("GET", "/api/v1/admin/trips", admin.trips, "Every trip, drafts included", "admin", query=m.AdminTripQuery,
          response=m.AdminTripList, auth="admin"),
    Route("POST", "/api/v1/admin/trips", admin.create_trip, "Create a trip (a draft)", "admin", body=m.TripInput,
          context=trip_context, response=m.AdminTrip, status=201, auth="admin", etag=True),
    Route("GET", "/api/v1/admin/trips/{id}", admin.trip, "A trip as the operator sees it", "admin",
          response=m.AdminTrip, auth="admin", etag=True, errors=(404,), params=(TRIP_ID,)),
    Route("PATCH", "/api/v1/admin/trips/{id}", admin.update_trip, "Change trip fields", "admin", body=m.TripChange,
          context=trip_context, response=m.AdminTrip, auth="admin", etag=True, errors=(404, 409, 412, 428),
          params=(TRIP_ID, IF_MATCH)),
    Route("POST", "/api/v1/admin/trips/{id}/publish", admin.publish_trip, "Publish a trip", "admin",
          response=m.AdminTrip, auth="admin", etag=True, errors=(404,), params=(TRIP_ID,)),
    Route("POST", "/api/v1/admin/trips/{id}/unpublish", admin.unpublish_trip, "Take a trip off sale", "admin",
          response=m.AdminTrip, auth="admin", etag=True, errors=(404,), params=(TRIP_ID,)),
    Route("GET", "/api/v1/admin/trips/{id}/departures", admin.trip_departures, "A trip's departures", "admin",
          response=m.AdminDepartureList, auth="admin", errors=(404,), params=(TRIP_ID,)),
    Route("POST", "/api/v1/admin/trips/{id}/departures", admin.add_departure, "Add a departure", "admin",
          body=m.DepartureInput, response=m.AdminDeparture, status=201, auth="admin", errors=(404,),
          params=(TRIP_ID,)),
    Route("GET", "/api/v1/admin/departures/{id}", admin.departure, "A departure with its seats", "admin",
          response=m.AdminDeparture, auth="admin", errors=(404,), params=(DEPARTURE_ID,)),
    Route("PATCH", "/api/v1/admin/departures/{id}", admin.update_departure, "Change the capacity, close or reopen sales",
          "admin", body=m.DepartureChange, response=m.AdminDeparture, auth="admin", errors=(404, 409),
          params=(DEPARTURE_ID,)),
    Route("POST", "/api/v1/admin/departures/{id}/cancel", admin.cancel_departure,
          "Cancel a departure: every live booking on it is cancelled with a full refund", "admin",
          body=m.DepartureCancel, optional_body=True, response=m.DepartureCancelled, auth="admin",
          errors=(404, 409), params=(DEPARTURE_ID,)),
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
    for route in ROUTES:
        cors.add(app.router.add_route(route.method, route.path, endpoint(route)))
    doc = document(ROUTES, settings.base_url)
    cors.add(app.router.add_get("/api/openapi.json", handler(doc)))
