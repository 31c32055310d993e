"""Public pages. The home page is the catalogue's (featured trips, next departures, destinations)."""

from yatri.web.catalogue import home

__all__ = ["home"]
