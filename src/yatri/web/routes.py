"""Every route in one place."""

from aiohttp import web

from yatri.api.routes import add_api_routes
from yatri.keys import StaticKey
from yatri.web import accounts, bookings, catalogue, google, ops, pages, payments, seo, waitlist
from yatri.web.admin import add_admin_routes
from yatri.web.live import add_live_routes


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", pages.home, name="home")
    app.router.add_get("/healthz", ops.healthz)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/metrics", ops.metrics)
    app.router.add_get("/sitemap.xml", seo.sitemap, name="sitemap")
    app.router.add_get("/robots.txt", seo.robots, name="robots")
    app.router.add_get("/static/{name:.+}", app[StaticKey].handle, name="static")

    # accounts
    app.router.add_get("/login", accounts.login_page, name="login")
    app.router.add_post("/login", accounts.login)
    app.router.add_post("/logout", accounts.logout, name="logout")
    app.router.add_get("/signup", accounts.signup_page, name="signup")
    app.router.add_post("/signup", accounts.signup)
    app.router.add_get("/verify-email", accounts.verify_email, name="verify_email")
    app.router.add_get("/password-reset", accounts.reset_request_page, name="password_reset")
    app.router.add_post("/password-reset", accounts.reset_request)
    app.router.add_get("/password-reset/{token}", accounts.reset_page, name="password_reset_token")
    app.router.add_post("/password-reset/{token}", accounts.reset)
    app.router.add_get("/account", accounts.account_page, name="account")
    app.router.add_post("/account", accounts.update_profile)
    app.router.add_post("/account/password", accounts.change_password)
    app.router.add_post("/account/verify-email", accounts.resend_verification)
    app.router.add_get("/auth/google", google.start, name="google")
    app.router.add_get("/auth/google/callback", google.callback, name="google_callback")

    add_api_routes(app)

    # catalogue
    app.router.add_get("/trips", catalogue.trips, name="trips")
    app.router.add_get("/trips/{slug}", catalogue.trip, name="trip")
    app.router.add_get("/destinations/{slug}", catalogue.destination, name="destination")
    app.router.add_get("/media/{name}", catalogue.media_file, name="media")

    # bookings
    app.router.add_get("/departures/{id:[0-9]+}/book", bookings.book_page, name="book")
    app.router.add_post("/departures/{id:[0-9]+}/book/review", bookings.review)
    app.router.add_post("/departures/{id:[0-9]+}/book", bookings.confirm)
    app.router.add_get("/departures/{id:[0-9]+}/waitlist", waitlist.page, name="waitlist")
    app.router.add_post("/departures/{id:[0-9]+}/waitlist", waitlist.join)
    app.router.add_post("/departures/{id:[0-9]+}/waitlist/leave", waitlist.leave)
    app.router.add_get("/bookings", bookings.my_bookings, name="bookings")
    app.router.add_get("/bookings/{ref}", bookings.booking_page, name="booking")
    app.router.add_get("/bookings/{ref}/travellers", bookings.travellers_page)
    app.router.add_post("/bookings/{ref}/travellers", bookings.save_travellers)
    app.router.add_get("/bookings/{ref}/cancel", bookings.cancel_page)
    app.router.add_post("/bookings/{ref}/cancel", bookings.cancel)

    # payments
    app.router.add_get("/bookings/{ref}/pay", payments.pay_page, name="booking_pay")
    app.router.add_post("/bookings/{ref}/pay", payments.submit_utr, name="booking_pay_utr")
    app.router.add_get("/bookings/{ref}/receipt", payments.receipt, name="booking_receipt")
    app.router.add_post("/payments/webhook/razorpay", payments.razorpay_webhook, name="razorpay_webhook")

    add_admin_routes(app)
    add_live_routes(app)
