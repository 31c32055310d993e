"""Every route in one place."""

from aiohttp import web

from yatri.api.routes import add_api_routes
from yatri.keys import MetricsKey, StaticKey
from yatri.web import accounts, catalogue, ops, pages, payments
from yatri.web.admin import add_admin_routes


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", pages.home, name="home")
    app.router.add_get("/healthz", ops.healthz)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/metrics", app[MetricsKey].handle)
    app.router.add_get("/static/{name:.+}", app[StaticKey].handle, name="static")

    # accounts
    app.router.add_get("/login", accounts.login_page, name="login")
    app.router.add_post("/login", accounts.login)
    app.router.add_post("/logout", accounts.logout, name="logout")

    add_api_routes(app)

    # catalogue
    app.router.add_get("/trips", catalogue.trips, name="trips")
    app.router.add_get("/trips/{slug}", catalogue.trip, name="trip")
    app.router.add_get("/destinations/{slug}", catalogue.destination, name="destination")
    app.router.add_get("/media/{name}", catalogue.media_file, name="media")

    # payments
    app.router.add_get("/bookings/{ref}/pay", payments.pay_page, name="booking_pay")
    app.router.add_post("/bookings/{ref}/pay", payments.submit_utr, name="booking_pay_utr")
    app.router.add_get("/bookings/{ref}/receipt", payments.receipt, name="booking_receipt")
    app.router.add_post("/payments/webhook/razorpay", payments.razorpay_webhook, name="razorpay_webhook")

    add_admin_routes(app)
