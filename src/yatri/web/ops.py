"""Operations endpoints for load balancers and monitoring."""

import asyncio
import logging

from aiohttp import web

from yatri.keys import DatabaseKey

log = logging.getLogger("yatri.ops")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(3):
            await request.app[DatabaseKey].db().execute_query("SELECT 1")
    except Exception as exc:  # any failure at all means "not ready"; the reason goes out
        log.warning("database not ready: %s", exc)
        return web.json_response(
            {"status": "unavailable", "reason": f"database unreachable: {type(exc).__name__}"}, status=503
        )
    return web.json_response({"status": "ok"})
