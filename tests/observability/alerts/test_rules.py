"""Rules: measures, conditions, summaries, keys; the engine's for/pending/firing states."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bastion.core.clock import FakeClock
from bastion.errors import ConfigError
from bastion.observability.alerts.budget import window_end
from bastion.observability.alerts.engine import RuleEngine
from bastion.observability.alerts.rules import (
    Measure,
    holds,
    measure_requests,
    recommended_rules,
    show,
    summarize,
)
from bastion.observability.alerts.signals import SignalRecorder
from bastion.settings import load_settings
from bastion.settings.alerts import AlertRuleSettings, AlertSettings


def _rule(**kw: Any) -> AlertRuleSettings:
    return AlertRuleSettings.model_validate(
        {"name": "r", "kind": "error_rate", "threshold": 0.1, **kw}
    )


def test_conditions_by_kind() -> None:
    assert holds(_rule(), Measure(0.2, 50))
    assert not holds(_rule(), Measure(0.2, 5))  # fewer than min_requests: no verdict
    assert not holds(_rule(), Measure(0.1, 50))  # strictly above
    assert holds(_rule(kind="accuracy", threshold=0.9), Measure(0.8, 100))
    assert not holds(_rule(kind="accuracy", threshold=0.9), Measure(0.95, 100))
    assert holds(_rule(kind="breaker_open", threshold=0), Measure(1, 2))  # at least one
    assert not holds(_rule(kind="breaker_open", threshold=1), Measure(0, 2))
    assert holds(_rule(kind="review_backlog", threshold=10), Measure(11, 0))


def test_request_measures_per_deployment() -> None:
    clock = FakeClock()
    rec = SignalRecorder(bucket_s=60, buckets=10, clock=clock.now)
    for i in range(40):
        rec.record("a", 0.9 if i % 10 == 0 else 0.01, "internal_error" if i < 8 else None)
    rec.record("b", 0.01, fallback=True)
    errors = measure_requests(_rule(), rec)
    assert errors["a"].value == pytest.approx(0.2) and errors["a"].samples == 40
    only_b = measure_requests(_rule(kind="fallback_rate", deployments=["b"]), rec)
    assert list(only_b) == ["b"] and only_b["b"].value == 1.0
    p95 = measure_requests(_rule(kind="latency_p95", threshold=300), rec)["a"]
    assert 500 < p95.value <= 1000  # milliseconds


def test_cost_anomaly_against_the_trailing_baseline() -> None:
    clock = FakeClock(start=0)
    rec = SignalRecorder(bucket_s=60, buckets=120, clock=clock.now)
    rule = _rule(kind="cost_anomaly", threshold=3, window_s=300, baseline_s=3600, min_cost_usd=1)
    assert measure_requests(rule, rec) == {}  # no baseline: no verdict
    for _ in range(60):  # an hour at $1 a minute
        rec.record("chat", 0.1, cost_usd=1.0)
        clock.advance(60)
    for _ in range(5):  # then five minutes at $10 a minute
        rec.record("chat", 0.1, cost_usd=10.0)
        clock.advance(60)
    measured = measure_requests(rule, rec)
    # the window is every bucket overlapping the last 300 s (the five $10 ones and the open,
    # empty one): $50, against the hour of buckets before it, 60 x $1 x 300 / 3600 = $5
    assert measured["chat"].value == pytest.approx(50 / 5)
    assert holds(rule, measured["chat"])
    assert measured["chat"].details["baseline_usd"] == pytest.approx(5.0)


def test_summaries_and_units() -> None:
    assert show("error_rate", 0.123) == "12.3%"
    assert show("latency_p95", 812.4) == "812 ms"
    assert show("review_backlog", 12) == "12 items"
    assert summarize(_rule(), "fraud", Measure(0.25, 10)) == (
        "error rate of fraud is 25.0%, above 10.0% (over 300s)"
    )
    breakers = _rule(kind="breaker_open", threshold=1)
    assert summarize(breakers, "chat", Measure(1, 2, {"open": ["chat/0"]})) == (
        "1 of 2 upstreams of chat have their circuit breaker open (chat/0)"
    )
    assert summarize(_rule(kind="review_backlog", threshold=10), "fraud", Measure(12)) == (
        "review backlog of fraud is 12 items, above 10 items"
    )
    custom = _rule(summary="{deployment}: {value} > {threshold} in {window} ({rule})")
    assert summarize(custom, "fraud", Measure(0.25)) == "fraud: 25.0% > 10.0% in 300s (r)"


def test_engine_waits_for_then_fires_once_and_clears() -> None:
    engine = RuleEngine()
    rule = _rule(for_s=30, min_requests=0)
    bad = {"a": Measure(0.5, 10), "b": Measure(0.0, 10)}
    first = engine.step(rule, bad, now=0)
    assert [(v.subject, v.phase, v.fired) for v in first] == [("a", "pending", False)]
    assert [v.fired for v in engine.step(rule, bad, now=29)] == [False]
    assert [(v.phase, v.fired) for v in engine.step(rule, bad, now=30)] == [("firing", True)]
    assert [(v.phase, v.fired) for v in engine.step(rule, bad, now=45)] == [("firing", False)]
    assert engine.step(rule, {"a": Measure(0.0, 10)}, now=50) == []
    again = engine.step(rule, bad, now=60)  # a new episode waits for_s again
    assert [(v.phase, v.fired) for v in again] == [("pending", False)]
    snap = {s["subject"]: s["phase"] for s in engine.snapshot(rule)}
    assert snap == {"a": "pending", "b": "ok"}


def test_settings_validation_names_the_problem() -> None:
    with pytest.raises(ValidationError, match="share between 0 and 1"):
        _rule(threshold=5)
    with pytest.raises(ValidationError, match=r"raise alerts\.buckets"):
        AlertSettings.model_validate(
            {
                "bucket_s": 60,
                "buckets": 10,
                "rules": [{"name": "x", "kind": "error_rate", "threshold": 0.1, "window_s": 3600}],
            }
        )
    with pytest.raises(ConfigError, match=r"alerts.webhooks.0.url"):
        load_settings(alerts={"webhooks": [{"name": "w", "url": "ftp://x"}]})
    with pytest.raises(ValidationError, match="repeated: a"):
        AlertSettings.model_validate(
            {"rules": [{"name": "a", "kind": "drift", "threshold": 0.1}] * 2}
        )
    with pytest.raises(ValidationError, match="bad placeholder 'where'"):
        _rule(summary="{where} is bad")
    assert AlertSettings(interval_s=5).resolve_grace_s == 60  # 4 intervals, at least 60 s
    assert AlertSettings(interval_s=30).resolve_grace_s == 120
    assert AlertSettings(interval_s=5, resolve_after_s=7).resolve_grace_s == 7


def test_recommended_rules_fit_the_default_ring_and_budget_windows_end() -> None:
    AlertSettings(rules=recommended_rules())  # validates every window against the ring
    assert window_end("2025-06-01").isoformat() == "2025-06-02T00:00:00+00:00"  # type: ignore[union-attr]
    assert window_end("2025-12").isoformat() == "2026-01-01T00:00:00+00:00"  # type: ignore[union-attr]
    assert window_end("week-23") is None
