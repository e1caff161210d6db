"""Pull sources: gateway breakers, Prometheus gauges, the review queue, a drift monitor."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from bastion.errors import NotFound
from bastion.observability.alerts.sources import default_sources
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
    sources = default_sources(SimpleNamespace(gateway=SimpleNamespace(status=lambda: status)))
    measured = await sources["breaker_open"](RULE)
    assert measured["chat"].value == 1 and measured["chat"].details["open"] == ["a"]


async def test_gauges_from_the_metrics_registry() -> None:
    registry = CollectorRegistry()
    drift = Gauge("bastion_drift_score", "d", ["deployment", "signal"], registry=registry)
    drift.labels("fraud", "_overall").set(0.3)
    drift.labels("fraud", "amount").set(7.5)  # a statistic, not a score: ignored
    backlog = Gauge("bastion_review_backlog", "b", ["deployment"], registry=registry)
    backlog.labels("fraud").set(12)
    metrics = SimpleNamespace(drift_score=drift, review_backlog=backlog)
    sources = default_sources(SimpleNamespace(metrics=metrics))
    assert (await sources["drift"](RULE))["fraud"].value == 0.3
    assert (await sources["review_backlog"](RULE))["fraud"].value == 12
    assert "accuracy" not in sources and "breaker_open" not in sources


async def test_review_queue_backlog_is_preferred_over_the_gauge() -> None:
    async def backlog() -> dict[str, int]:
        return {"fraud": 40}

    registry = CollectorRegistry()
    gauge = Gauge("bastion_review_backlog", "b", ["deployment"], registry=registry)
    gauge.labels("fraud").set(1)
    svc = SimpleNamespace(
        review=SimpleNamespace(queue=SimpleNamespace(backlog=backlog)),
        metrics=SimpleNamespace(review_backlog=gauge),
    )
    assert (await default_sources(svc)["review_backlog"](RULE))["fraud"].value == 40


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
    measured = await default_sources(SimpleNamespace(drift=_Monitor()))["drift"](RULE)
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
    svc = SimpleNamespace(metrics=SimpleNamespace(registry=registry))
    rule = AlertRuleSettings(name="acc", kind="accuracy", threshold=0.9, min_requests=50)
    measured = (await default_sources(svc)["accuracy"](rule))["fraud"]
    assert (measured.value, measured.samples) == (0.85, 400)
    assert measured.details == {"version": 2, "window": "24h", "labelled": 400}
