"""The overview page: health, traffic, latency, errors, cost and its trend, cache and fallbacks."""

from __future__ import annotations

from starlette.responses import Response

from bastion.console import charts, overview
from bastion.console.app import Page


async def show(page: Page) -> Response:
    data = await overview.build(page.svc, page.principal)
    traffic = charts.bars(data.hours, data.requests, "Requests per hour, last 24 hours")
    errors = charts.bars(data.hours, data.errors, "Errors per hour", charts.COLORS[1])
    cost = charts.bars(data.days, data.cost, "Cost per day, last 14 days", charts.COLORS[2])
    top = max((n for _, n in data.errors_by_type), default=0)
    error_bars = [(t, n, charts.hbar(n, top, charts.COLORS[1])) for t, n in data.errors_by_type]
    return page.render(
        "overview.html",
        active="overview",
        data=data,
        traffic=traffic,
        errors=errors,
        cost=cost,
        error_bars=error_bars,
    )
