"""Public pages."""

from aiohttp import web

from yatri.services import catalogue
from yatri.web.render import render


async def home(request: web.Request) -> web.Response:
    trips = await catalogue.published_trips()
    return render(request, "pages/home.html", {"trips": trips})
