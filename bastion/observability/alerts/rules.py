"""What a rule measures, when its condition holds, and how its alerts are named and keyed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.observability.alerts.signals import SignalRecorder
from bastion.settings.alerts import AlertRuleSettings

# Kinds measured from the in-process request signals; the others come from sources.
REQUEST_KINDS = frozenset({"latency_p95", "error_rate", "fallback_rate", "cost_anomaly"})
# Kinds that give no verdict on fewer than ``min_requests`` samples.
SAMPLED_KINDS = frozenset({"latency_p95", "error_rate", "fallback_rate", "accuracy"})
# Kinds whose condition is "below the threshold"; every other kind fires above it.
BELOW_KINDS = frozenset({"accuracy"})
# Kinds pushed as events rather than evaluated on a schedule.
EVENT_KINDS = frozenset({"budget"})

_UNITS = {
    "latency_p95": "ms",
    "error_rate": "%",
    "fallback_rate": "%",
    "cost_anomaly": "x baseline",
    "drift": "",
    "accuracy": "%",
    "review_backlog": "items",
    "breaker_open": "open upstreams",
    "budget": "%",
}
_LABELS = {
    "latency_p95": "p95 latency",
    "error_rate": "error rate",
    "fallback_rate": "fallback rate",
    "cost_anomaly": "cost",
    "drift": "drift score",
    "accuracy": "accuracy",
    "review_backlog": "review backlog",
    "breaker_open": "circuit breakers open",
    "budget": "budget used",
}


@dataclass(frozen=True, slots=True)
class Measure:
    """A rule's signal for one subject (a deployment, or an LLM group for breakers).

    ``samples`` is how much evidence stands behind ``value`` (requests, labelled answers);
    ``details`` travels with the alert.
    """

    value: float
    samples: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def applies_to(rule: AlertRuleSettings, subject: str) -> bool:
    return rule.deployments is None or subject in rule.deployments


def holds(rule: AlertRuleSettings, measure: Measure) -> bool:
    """True when the rule's condition is met (with enough evidence to say so)."""
    if rule.kind in SAMPLED_KINDS and measure.samples < rule.min_requests:
        return False
    if rule.kind in BELOW_KINDS:
        return measure.value < rule.threshold
    if rule.kind == "breaker_open":
        return measure.value >= max(rule.threshold, 1.0)
    return measure.value > rule.threshold


def measure_requests(rule: AlertRuleSettings, recorder: SignalRecorder) -> dict[str, Measure]:
    """The request-signal kinds, for every deployment the recorder has seen."""
    out: dict[str, Measure] = {}
    for deployment in recorder.deployments():
        if not applies_to(rule, deployment):
            continue
        stats = recorder.window(deployment, rule.window_s)
        base: dict[str, Any] = {"requests": stats.requests, "window_s": rule.window_s}
        if rule.kind == "error_rate":
            out[deployment] = Measure(
                stats.error_rate, stats.requests, {**base, "errors": stats.errors}
            )
        elif rule.kind == "fallback_rate":
            out[deployment] = Measure(
                stats.fallback_rate, stats.requests, {**base, "fallbacks": stats.fallbacks}
            )
        elif rule.kind == "latency_p95":
            p95 = stats.latency_quantile(0.95)
            if p95 is not None:
                out[deployment] = Measure(p95 * 1000, stats.requests, base)
        elif rule.kind == "cost_anomaly":
            measured = _cost(rule, recorder, deployment, stats.cost_usd, stats.requests)
            if measured is not None:
                out[deployment] = measured
    return out


def _cost(
    rule: AlertRuleSettings, recorder: SignalRecorder, deployment: str, cost: float, n: int
) -> Measure | None:
    """Cost in the window as a multiple of the trailing baseline's cost per window.

    No verdict without a baseline (a deployment that never cost anything has no normal to
    be anomalous against) or below ``min_cost_usd``.
    """
    baseline = recorder.window(deployment, rule.baseline_s, offset_s=rule.window_s).cost_usd
    per_window = baseline * rule.window_s / rule.baseline_s
    if per_window <= 0 or cost < rule.min_cost_usd:
        return None
    details = {"cost_usd": round(cost, 6), "baseline_usd": round(per_window, 6)}
    return Measure(cost / per_window, n, details)


def dedupe_key(rule: str, subject: str | None, *extra: str) -> str:
    return ":".join((rule, subject or "-", *extra))


def show(kind: str, value: float) -> str:
    """A value in its rule's unit: 0.123 error rate → '12.3%'."""
    unit = _UNITS.get(kind, "")
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "ms":
        return f"{value:.0f} ms"
    if kind == "cost_anomaly":
        return f"{value:.1f}x baseline"
    if unit:
        return f"{value:g} {unit}"
    return f"{value:.2f}"


def label(kind: str) -> str:
    """What a kind measures, in words: ``error_rate`` → ``error rate``."""
    return _LABELS.get(kind, kind)


def summarize(rule: AlertRuleSettings, subject: str, measure: Measure) -> str:
    """The one line a person reads first: what, where, how bad, against what."""
    if rule.summary:
        return rule.summary.format(
            rule=rule.name,
            deployment=subject,
            value=show(rule.kind, measure.value),
            threshold=show(rule.kind, rule.threshold),
            window=f"{rule.window_s:g}s",
        )
    if rule.kind == "breaker_open":
        names = ", ".join(str(n) for n in measure.details.get("open", ()))
        return (
            f"{measure.value:g} of {measure.samples} upstreams of {subject} have their circuit "
            f"breaker open ({names})"
        )
    relation = "below" if rule.kind in BELOW_KINDS else "above"
    over = f" (over {rule.window_s:g}s)" if rule.kind in REQUEST_KINDS else ""
    return (
        f"{label(rule.kind)} of {subject} is {show(rule.kind, measure.value)}, "
        f"{relation} {show(rule.kind, rule.threshold)}{over}"
    )


def recommended_rules() -> list[AlertRuleSettings]:
    """A starting set, used by the exporters when no rules are configured."""
    specs: list[dict[str, Any]] = [
        {"name": "latency-slo", "kind": "latency_p95", "threshold": 500, "for_s": 300},
        {"name": "error-rate", "kind": "error_rate", "threshold": 0.05, "for_s": 120},
        {"name": "fallback-rate", "kind": "fallback_rate", "threshold": 0.2, "for_s": 300},
        {"name": "cost-anomaly", "kind": "cost_anomaly", "threshold": 3, "min_cost_usd": 1},
        {"name": "budget-80", "kind": "budget", "threshold": 0.8, "severity": "info"},
        {"name": "drift", "kind": "drift", "threshold": 0.2, "window_s": 3600},
        {"name": "accuracy-drop", "kind": "accuracy", "threshold": 0.8, "window_s": 3600},
        {"name": "review-backlog", "kind": "review_backlog", "threshold": 100, "for_s": 900},
        {"name": "breaker-open", "kind": "breaker_open", "threshold": 1, "severity": "critical"},
    ]
    return [AlertRuleSettings.model_validate(spec) for spec in specs]
