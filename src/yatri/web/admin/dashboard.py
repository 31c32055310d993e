"""/admin: what needs the operator's attention today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aiohttp import web

from yatri.services import admin_ops
from yatri.web.admin.common import now, zone
from yatri.web.render import render

CHART_WIDTH = 600
CHART_HEIGHT = 160
CHART_TOP = 10  # room so the tallest bar's edge is not clipped


@dataclass(frozen=True)
class Bar:
    day: date
    paise: int
    x: float
    y: float
    width: float
    height: float


def chart_bars(per_day: list[tuple[date, int]]) -> list[Bar]:
    """Bar geometry for the revenue chart, drawn as SVG on the server (no chart script)."""
    highest = max((paise for _, paise in per_day), default=0) or 1
    slot = CHART_WIDTH / max(len(per_day), 1)
    bars = []
    for i, (day, paise) in enumerate(per_day):
        height = round((CHART_HEIGHT - CHART_TOP) * paise / highest, 1)
        bars.append(Bar(day, paise, round(i * slot + 1, 1), CHART_HEIGHT - height, round(slot - 2, 1), height))
    return bars


async def dashboard(request: web.Request) -> web.Response:
    data = await admin_ops.dashboard(now(request), zone(request))
    context = {"data": data, "bars": chart_bars(data.revenue_by_day), "chart": (CHART_WIDTH, CHART_HEIGHT)}
    return render(request, "admin/dashboard.html", context, fragment="fragments/admin/dashboard.html")
