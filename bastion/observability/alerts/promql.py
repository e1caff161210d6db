"""Bastion's rules as PromQL over the metrics of ``bastion/observability/metrics.py``.

Each expression mirrors what the in-process rule measures, so that a team running its own
Prometheus gets the same alerts from the same thresholds. Kinds with no Prometheus metric
(budget thresholds, accuracy until a gauge exists) have no expression.
"""

from __future__ import annotations

import re

from bastion.settings.alerts import AlertRuleSettings

REQUESTS = "bastion_requests_total"
LATENCY_BUCKET = "bastion_request_duration_seconds_bucket"
FALLBACKS = "bastion_fallbacks_total"
COST = "bastion_cost_usd_total"
DRIFT = "bastion_drift_score"
REVIEW_BACKLOG = "bastion_review_backlog"
BREAKER_STATE = "bastion_breaker_state"
BREAKER_OPEN = 2  # bastion_breaker_state: 0 closed, 1 half-open, 2 open
# Server-side failures, as the in-process signals count them: an error type that is not a
# client's (4xx) mistake, including streams that broke after their 200 went out.
SERVER_ERRORS = 'error_type!="none",status!~"4.."'


def duration(seconds: float) -> str:
    """A Prometheus duration: 300 → '5m', 3600 → '1h', 90 → '90s', 0.5 → '500ms'."""
    if seconds < 1 or seconds != int(seconds):
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def matcher(rule: AlertRuleSettings, label: str = "deployment", *extra: str) -> str:
    """``{label=~"a|b", extra...}`` for a rule limited to some deployments, else ``{extra}``."""
    parts = list(extra)
    if rule.deployments:
        names = "|".join(re.escape(name) for name in rule.deployments)
        parts.insert(0, f'{label}=~"{names}"')
    return "{" + ",".join(parts) + "}" if parts else ""


def expression(rule: AlertRuleSettings) -> str | None:
    """The alerting expression of ``rule``, or None when Prometheus has no metric for it."""
    w, m, t = duration(rule.window_s), matcher(rule), _num(rule.threshold)
    by = "sum by (deployment)"
    enough = f"{by} (increase({REQUESTS}{m}[{w}])) >= {rule.min_requests}"
    if rule.kind == "error_rate":
        errors = matcher(rule, "deployment", SERVER_ERRORS)
        ratio = f"{by} (rate({REQUESTS}{errors}[{w}])) / {by} (rate({REQUESTS}{m}[{w}]))"
        return f"({ratio}) > {t} and on (deployment) ({enough})"
    if rule.kind == "fallback_rate":
        ratio = f"{by} (rate({FALLBACKS}{m}[{w}])) / {by} (rate({REQUESTS}{m}[{w}]))"
        return f"({ratio}) > {t} and on (deployment) ({enough})"
    if rule.kind == "latency_p95":
        buckets = f"sum by (deployment, le) (rate({LATENCY_BUCKET}{m}[{w}]))"
        return f"histogram_quantile(0.95, {buckets}) * 1000 > {t} and on (deployment) ({enough})"
    if rule.kind == "cost_anomaly":
        now = f"{by} (increase({COST}{m}[{w}]))"
        base = f"{by} (increase({COST}{m}[{duration(rule.baseline_s)}] offset {w}))"
        scale = _num(rule.window_s / rule.baseline_s)
        floor = f" and {now} >= {_num(rule.min_cost_usd)}" if rule.min_cost_usd else ""
        return f"{now} > {t} * {base} * {scale} and {base} > 0{floor}"
    if rule.kind == "drift":
        drift = matcher(rule, "deployment", 'signal="_overall"')
        return f"max by (deployment) ({DRIFT}{drift}) > {t}"
    if rule.kind == "review_backlog":
        return f"max by (deployment) ({REVIEW_BACKLOG}{m}) > {t}"
    if rule.kind == "breaker_open":
        groups = matcher(rule, "group")
        need = _num(max(rule.threshold, 1.0))
        return f"count by (group) ({BREAKER_STATE}{groups} == {BREAKER_OPEN}) >= {need}"
    return None


def _num(value: float) -> str:
    return f"{value:g}"
