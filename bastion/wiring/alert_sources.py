"""Where each alert rule kind reads its values: the pull sources, from the services built."""

from __future__ import annotations

from bastion.data import DataService
from bastion.gateway import Gateway
from bastion.monitoring.service import MonitoringService
from bastion.observability import Metrics
from bastion.observability.alerts.sources import (
    Source,
    breaker_source,
    counts_source,
    drift_monitor_source,
    gauge_source,
    quality_source,
)
from bastion.review import ReviewService


def alert_sources(
    *,
    gateway: Gateway,
    review: ReviewService,
    data: DataService,
    metrics: Metrics | None,
    monitoring: MonitoringService | None,
) -> dict[str, Source]:
    """The pull sources by rule kind, for ``AlertManager.add_source`` (the request kinds
    read the alert stage's own windows, and any kind also takes gauges pushed with
    ``AlertManager.set_gauge``):

    breaker_open    open breakers per LLM group (``Gateway.status()``)
    review_backlog  pending items per deployment from the review queue (the database, so
                    every process agrees)
    quarantine_rate the share of rows the data contracts quarantined
    drift           the ``bastion_drift_score{signal="_overall"}`` gauge monitoring sets; with
                    metrics off, the drift monitor's own reports
    accuracy        the ``bastion_model_quality`` gauge monitoring sets from delayed labels
                    (none with metrics off)
    """
    out: dict[str, Source] = {
        "breaker_open": breaker_source(gateway.status),
        "review_backlog": counts_source(review.queue.backlog),
        "quarantine_rate": data.alert_source(),
    }
    if metrics is not None:
        out["drift"] = gauge_source(metrics.drift_score)
        out["accuracy"] = quality_source(metrics.registry)
    elif monitoring is not None and monitoring.monitor is not None:
        out["drift"] = drift_monitor_source(monitoring.monitor)
    return out
