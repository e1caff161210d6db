"""Pull sources: gateway breakers, Prometheus gauges, the review queue, a drift monitor."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from bastion.errors import NotFound
from bastion.observability.alerts.sources import (
    breaker_source,
    counts_source,
    drift_monitor_source,
    gauge_source,
    quality_source,
)
from bastion.settings.alerts import AlertRuleSettings

RULE = AlertRuleSettings(name="r", kind="drift", threshold=0.1)


async def test_breakers_from_the_gateway_status() -> None:
    status = [
        {
            "group": "chat",
            "upstreams": [
                {"name": "a", "breaker": {"state": "open"}},
                {"name": "b", "breaker": {"state": "half_open"}},
            ],
        }
    ]
    measured = await breaker_source(lambda: status)(RULE)
    assert measured["chat"].value == 1 and measured["chat"].details["open"] == ["a"]


async def test_gauges_from_the_metrics_registry() -> None:
    registry = CollectorRegistry()
    drift = Gauge("bastion_drift_score", "d", ["deployment", "signal"], registry=registry)
    drift.labels("fraud", "_overall").set(0.3)
    drift.labels("fraud", "amount").set(7.5)  # a statistic, not a score: ignored
    backlog = Gauge("bastion_review_backlog", "b", ["deployment"], registry=registry)
    backlog.labels("fraud").set(12)
    assert (await gauge_source(drift)(RULE))["fraud"].value == 0.3
    assert (await gauge_source(backlog)(RULE))["fraud"].value == 12


async def test_review_backlog_from_the_queue() -> None:
    async def backlog() -> dict[str, int]:
        return {"fraud": 40}

    measured = (await counts_source(backlog)(RULE))["fraud"]
    assert (measured.value, measured.samples) == (40, 40)


class _Monitor:
    """The two methods of bastion.monitoring.DriftMonitor the source reads."""

    def monitored(self) -> list[tuple[str, int]]:
        return [("fraud", 1), ("fraud", 2), ("spam", 1), ("new", 1)]

    def report(self, deployment: str, version: int) -> Any:
        if deployment == "new":
            raise NotFound("collecting its baseline")
        status = "drift" if deployment == "fraud" else "ok"
        return SimpleNamespace(
            status=status, score=0.4, rows=800, drifted=lambda: ["amount"] if status else []
        )


async def test_drift_monitor_reports_the_latest_version() -> None:
    measured = await drift_monitor_source(_Monitor())(RULE)
    assert measured["fraud"].value == 0.4 and measured["fraud"].details["version"] == 2
    assert measured["spam"].value == 0.0
    assert "new" not in measured


async def test_accuracy_from_the_model_quality_gauge() -> None:
    registry = CollectorRegistry()
    quality = Gauge(
        "bastion_model_quality",
        "q",
        ["deployment", "version", "window", "segment", "value", "metric"],
        registry=registry,
    )
    for version, window, accuracy, labelled in (
        (1, "24h", 0.5, 500),  # an old version: ignored
        (2, "1h", 0.6, 8),  # too few labels for the rule
        (2, "24h", 0.85, 400),
        (2, "7d", 0.9, 2000),
    ):
        quality.labels("fraud", str(version), window, "_all", "_all", "accuracy").set(accuracy)
        quality.labels("fraud", str(version), window, "_all", "_all", "labelled").set(labelled)
    quality.labels("fraud", "2", "24h", "country", "fr", "accuracy").set(0.1)  # a segment
    rule = AlertRuleSettings(name="acc", kind="accuracy", threshold=0.9, min_requests=50)
    measured = (await quality_source(registry)(rule))["fraud"]
    assert (measured.value, measured.samples) == (0.85, 400)
    assert measured.details == {"version": 2, "window": "24h", "labelled": 400}
