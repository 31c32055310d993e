"""Every route in one place."""

from aiohttp import web

from yatri.api.routes import add_api_routes
from yatri.keys import MetricsKey, StaticKey
from yatri.web import accounts, catalogue, ops, pages
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

    add_admin_routes(app)
