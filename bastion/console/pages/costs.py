"""Costs and budgets by key, team, tenant and deployment (the costs API's report and rules)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.responses import Response

from bastion.api.costs import _budget, _filter
from bastion.console import charts, rollups
from bastion.console.app import Page
from bastion.console.sql import PAGE_SIZE, int_param
from bastion.governance.costs import CostFilter, total_cost
from bastion.governance.subject import Subject
from bastion.store.tables import utcnow

DIMENSIONS = ("deployment", "key", "team", "tenant")
WINDOWS = (1, 7, 30, 90)


async def show(page: Page) -> Response:
    params = page.request.query_params
    by = str(params.get("by")) if params.get("by") in DIMENSIONS else "deployment"
    days = int_param(params.get("days"), 30) or 30
    days = days if days in WINDOWS else 30
    offset = max(0, int_param(params.get("offset"), 0) or 0)
    today = utcnow().date()
    asked = CostFilter(today - timedelta(days=days - 1), today, None, None, None)
    where = _filter(page.principal, asked)  # operators: their tenant; others: their own key
    marks = await rollups.refresh(page.svc.db, utcnow())
    mark = marks.get(rollups.USAGE, "")
    filters: rollups.Filters = {"tenant": where.tenant, "team": where.team, "key_id": where.key_id}
    since, until = where.since or today, where.until or today
    rows = await rollups.usage(page.svc.db, mark, [by], since, until, filters)
    daily = await rollups.usage(page.svc.db, mark, ["day"], since, until, filters)
    per_day = {r["day"]: r["cost_usd"] for r in daily}
    labels = [(today - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    trend = charts.bars(
        [d[5:] for d in labels],
        [per_day.get(d, 0.0) for d in labels],
        f"Cost per day, last {days} days",
        charts.COLORS[2],
        charts.WIDE,
    )
    top = max((r["cost_usd"] for r in rows), default=0.0)
    shown = [(r, charts.hbar(r["cost_usd"], top, charts.COLORS[2])) for r in rows]
    return page.render(
        "costs.html",
        active="costs",
        by=by,
        days=days,
        dimensions=DIMENSIONS,
        windows=WINDOWS,
        rows=shown[offset : offset + PAGE_SIZE],
        offset=offset,
        more=offset + PAGE_SIZE < len(rows),
        page_size=PAGE_SIZE,
        total=total_cost(rows),
        trend=trend,
        budgets=await _budgets(page),
    )


async def _budgets(page: Page) -> list[dict[str, Any]]:
    governance = page.svc.governance
    p = page.principal
    usage = await governance.budget_usage(Subject(p.key_id, p.tenant, p.team, ""))
    return [_budget(u) for u in usage]
