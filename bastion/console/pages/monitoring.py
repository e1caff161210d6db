"""Monitoring: alerts (active, history) and, per deployment, drift per feature and accuracy
per window, version and segment (the monitoring service's own figures)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from bastion.api.alerts import visible
from bastion.console import charts
from bastion.console.app import Page
from bastion.console.sql import PAGE_SIZE, int_param, tenant_of
from bastion.errors import BastionError, NotFound
from bastion.monitoring.accuracy import ALL


async def index(page: Page) -> Response:
    p = page.principal
    deployments = [d.status() for d in page.svc.deployments.all() if p.can_use(d.name)]
    manager = page.svc.alerts
    before = int_param(page.request.query_params.get("before"))
    found = await manager.list(limit=PAGE_SIZE, before_id=before)
    history = [a.to_dict() for a in found if visible(p, a)]
    active = [a.to_dict() for a in await manager.active() if visible(p, a)]
    next_before = found[-1].id if len(found) == PAGE_SIZE else None
    return page.render(
        "monitoring.html",
        active="monitoring",
        deployments=deployments,
        firing=active,
        history=history,
        next_before=next_before,
        alerting=manager is not None,
    )


async def show(page: Page) -> Response:
    name = page.request.path_params["name"]
    monitoring = page.svc.monitoring
    if not page.principal.can_use(name) or monitoring is None:
        raise NotFound(f"no monitored deployment named '{name}'")
    if not monitoring.known(name) and not await monitoring.feedback.versions(name):
        raise NotFound(f"no deployment named '{name}' and no feedback recorded for one")
    drift, drift_error = None, ""
    try:
        report, _ = await monitoring.drift.report(name, None, 1)
        drift = report.to_dict()
    except BastionError as exc:
        drift_error = exc.message
    figures = await monitoring.accuracy.figures(name, tenant=tenant_of(page.principal))
    quality = [q.to_dict() for q in figures]
    return page.render(
        "monitor.html",
        active="monitoring",
        name=name,
        drift=drift,
        drift_error=drift_error,
        signals=_signals(drift),
        quality=quality,
        accuracy_chart=_accuracy_chart(quality),
        segments=[
            (q, charts.hbar(q["accuracy"] or 0.0, 1.0, charts.COLORS[2]))
            for q in quality
            if q["segment"] != ALL
        ],
        overall=[q for q in quality if q["segment"] == ALL],
    )


def _signals(drift: dict[str, Any] | None) -> list[tuple[dict[str, Any], Any]]:
    """Each signal with its reference-vs-live distribution drawn (where it has bins)."""
    if drift is None:
        return []
    signals = list(drift.get("features") or [])
    signals += [drift[k] for k in ("prediction", "confidence", "embedding") if drift.get(k)]
    out = []
    for s in signals:
        chart = None
        if s.get("labels") and s.get("reference") and s.get("live"):
            labels = [str(x)[:10] for x in s["labels"]]
            chart = charts.lines(
                labels, [s["reference"], s["live"]], f"{s['name']}: reference and live"
            )
        out.append((s, chart))
    return out


def _accuracy_chart(quality: list[dict[str, Any]]) -> Any:
    """Accuracy (or mean score) per window, one line per version, over all segments."""
    overall = [q for q in quality if q["segment"] == ALL]
    windows = list(dict.fromkeys(q["window"] for q in overall))
    versions = sorted({q["version"] for q in overall})
    if not windows:
        return None
    series = []
    for version in versions:
        by_window = {q["window"]: q for q in overall if q["version"] == version}
        series.append([_figure(by_window.get(w)) for w in windows])
    return charts.lines(windows, series, "Accuracy per window", top=1.0, width=charts.WIDE)


def _figure(q: dict[str, Any] | None) -> float | None:
    if q is None:
        return None
    value = q["accuracy"] if q["accuracy"] is not None else q["mean_score"]
    return float(value) if value is not None else None
