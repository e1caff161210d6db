"""The overview's figures: traffic, errors and cost from the stores; latency, cache and
fallback rates from this process's metrics; health from the deployments and alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bastion.console import rollups
from bastion.console.sql import tenant_of
from bastion.security import Principal
from bastion.services import Services
from bastion.store.tables import utcnow

HOURS = 24
DAYS = 14


@dataclass(slots=True)
class Overview:
    hours: list[str] = field(default_factory=list)
    requests: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    errors_by_type: list[tuple[str, int]] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    cost_today: float = 0.0
    cost_yesterday: float = 0.0
    cache_rate: float | None = None
    fallback_rate: float | None = None
    latency: dict[str, float | None] = field(default_factory=dict)
    health: list[dict[str, Any]] = field(default_factory=list)
    alerts_firing: int = 0

    @property
    def total(self) -> int:
        return int(sum(self.requests))

    @property
    def error_rate(self) -> float | None:
        return sum(self.errors) / self.total if self.total else None


async def build(svc: Services, principal: Principal, now: datetime | None = None) -> Overview:
    now = now or utcnow()
    out = Overview()
    marks = await rollups.refresh(svc.db, now)
    await _traffic(svc, principal, now, marks.get(rollups.TRAFFIC, ""), out)
    await _costs(svc, principal, now.date(), marks.get(rollups.USAGE, ""), out)
    _from_metrics(svc, principal, out)
    out.health = [d.status() for d in svc.deployments.all() if principal.can_use(d.name)]
    active = await svc.alerts.active()
    out.alerts_firing = sum(
        1 for a in active if a.deployment is None or principal.can_use(a.deployment)
    )
    return out


async def _traffic(
    svc: Services, principal: Principal, now: datetime, mark: str, out: Overview
) -> None:
    start = (now - timedelta(hours=HOURS - 1)).replace(minute=0, second=0, microsecond=0)
    hourly, types = await rollups.traffic(svc.db, mark, start, tenant_of(principal))
    for i in range(HOURS):
        moment = start + timedelta(hours=i)
        n, e = hourly.get(rollups.hour_of(moment), (0, 0))
        out.hours.append(moment.strftime("%H:00"))
        out.requests.append(n)
        out.errors.append(e)
    out.errors_by_type = sorted(types.items(), key=lambda t: -t[1])[:8]


async def _costs(
    svc: Services, principal: Principal, today: date, mark: str, out: Overview
) -> None:
    first = today - timedelta(days=DAYS - 1)
    filters: rollups.Filters = {"tenant": tenant_of(principal)}
    rows = await rollups.usage(svc.db, mark, ["day"], first, today, filters)
    by_day = {r["day"]: r for r in rows}
    for i in range(DAYS):
        day = (first + timedelta(days=i)).isoformat()
        out.days.append(day[5:])
        out.cost.append(by_day[day]["cost_usd"] if day in by_day else 0.0)
    out.cost_today = out.cost[-1]
    out.cost_yesterday = out.cost[-2]
    now = by_day.get(today.isoformat())
    out.cache_rate = now["cached"] / now["requests"] if now and now["requests"] else None


def _from_metrics(svc: Services, principal: Principal, out: Overview) -> None:
    metrics = svc.metrics
    if metrics is None:
        return
    buckets: dict[float, float] = {}
    total = fallbacks = 0.0
    for family in metrics.request_seconds.collect():
        for s in family.samples:
            if s.name.endswith("_bucket") and principal.can_use(s.labels.get("deployment", "")):
                le = float(s.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + s.value
    for family in metrics.requests.collect():
        for s in family.samples:
            if s.name.endswith("_total") and principal.can_use(s.labels.get("deployment", "")):
                total += s.value
    for family in metrics.fallbacks.collect():
        for s in family.samples:
            if s.name.endswith("_total") and principal.can_use(s.labels.get("deployment", "")):
                fallbacks += s.value
    out.latency = {f"p{q}": quantile(buckets, q / 100) for q in (50, 95, 99)}
    out.fallback_rate = fallbacks / total if total else None


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """A quantile from cumulative histogram buckets (linear within a bucket, as Prometheus'
    ``histogram_quantile`` does)."""
    edges = sorted(buckets)
    if not edges or buckets[edges[-1]] <= 0:
        return None
    rank = q * buckets[edges[-1]]
    lower, below = 0.0, 0.0
    for edge in edges:
        count = buckets[edge]
        if count >= rank:
            if edge == float("inf"):
                return lower
            inside = count - below
            return lower + (edge - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = edge, count
    return lower
