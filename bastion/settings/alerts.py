"""Settings of alerting: rules over live signals, evaluation cadence, notification webhooks."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bastion.settings.core import Section

RuleKind = Literal[
    "latency_p95",
    "error_rate",
    "fallback_rate",
    "cost_anomaly",
    "budget",
    "drift",
    "accuracy",
    "review_backlog",
    "breaker_open",
    "quarantine_rate",
    "schema_change",
]
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
# The runbook (docs/runbooks/NAME.md) for the alerts of each rule kind.
RUNBOOKS: dict[str, str] = {
    "latency_p95": "latency-slo-breach",
    "error_rate": "error-spike",
    "fallback_rate": "upstream-down",
    "breaker_open": "upstream-down",
    "cost_anomaly": "budget-exhausted",
    "budget": "budget-exhausted",
    "drift": "drift-alert",
    "accuracy": "drift-alert",
    "review_backlog": "review-backlog",
    "quarantine_rate": "bad-input-data",
    "schema_change": "bad-input-data",
}
DEFAULT_RUNBOOK_BASE = "docs/runbooks"


def runbook_url(kind: str, base: str = DEFAULT_RUNBOOK_BASE) -> str:
    """Where the runbook of a rule kind lives under ``base`` (a path or a URL)."""
    return f"{base.rstrip('/')}/{RUNBOOKS.get(str(kind), 'error-spike')}.md"


def _with_runbook(rule: Any, base: str) -> Any:
    if isinstance(rule, dict) and not rule.get("runbook_url") and "kind" in rule:
        return {**rule, "runbook_url": runbook_url(rule["kind"], base)}
    return rule


_NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class AlertRuleSettings(Section):
    """One rule. ``threshold`` reads by kind:

    latency_p95 milliseconds; error_rate and fallback_rate a share of requests (0-1);
    cost_anomaly a multiple of the trailing baseline; budget a fraction of a limit (0-1);
    drift a drift score (0-1); accuracy the lowest acceptable accuracy (fires below it);
    review_backlog pending items; breaker_open open upstreams in a group; quarantine_rate a
    share of checked rows that broke the deployment's data contract (0-1); schema_change the
    number of changes the latest schema diff found (threshold 0: any change).
    """

    name: str = Field(pattern=_NAME)
    kind: RuleKind
    threshold: float = Field(ge=0)
    window_s: float = Field(300.0, gt=0, description="the window the signal is measured over")
    for_s: float = Field(0.0, ge=0, description="how long the condition holds before firing")
    severity: Severity = "warning"
    deployments: list[str] | None = Field(None, description="None: every deployment")
    min_requests: int = Field(
        20, ge=0, description="rate, latency and accuracy rules: fewer samples give no verdict"
    )
    baseline_s: float = Field(3600.0, gt=0, description="cost_anomaly: the trailing baseline")
    min_cost_usd: float = Field(0.0, ge=0, description="cost_anomaly: ignore windows below it")
    summary: str | None = Field(
        None, description="template: {rule} {deployment} {value} {threshold} {window}"
    )
    runbook_url: str | None = Field(
        None, description="default: alerts.runbook_base_url + the kind's runbook (docs/runbooks)"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_runbook(cls, data: Any) -> Any:
        return _with_runbook(data, DEFAULT_RUNBOOK_BASE)

    @model_validator(mode="after")
    def _thresholds_make_sense(self) -> AlertRuleSettings:
        shares = ("error_rate", "fallback_rate", "budget", "accuracy", "quarantine_rate")
        if self.kind in shares and self.threshold > 1:
            raise ValueError(f"a {self.kind} threshold is a share between 0 and 1")
        if self.summary is not None:
            try:
                self.summary.format(rule="", deployment="", value="", threshold="", window="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"summary: bad placeholder {exc}; use {{rule}} {{deployment}} {{value}} "
                    "{threshold} {window}"
                ) from exc
        return self


class WebhookSettings(Section):
    """A notification target: generic JSON, or a Slack-compatible incoming webhook.

    The URL is a secret (Slack's carry their token in the path): it is never logged whole.
    With ``secret`` set each body is signed: ``x-bastion-signature: sha256=<hex HMAC>``.
    """

    name: str = Field(pattern=_NAME)
    url: SecretStr
    format: Literal["json", "slack"] = "json"
    min_severity: Severity = "info"
    secret: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("a webhook url starts with http:// or https://")
        return value


class AlertSettings(Section):
    """Alert rules evaluated in every server process, with their notifications.

    Signals are kept per deployment in ``buckets`` buckets of ``bucket_s`` seconds, so a
    rule's window (plus a cost baseline) must fit in ``bucket_s * buckets``; a window covers
    every bucket it overlaps (up to one ``bucket_s`` more than ``window_s``). An alert is one
    episode: it fires once, stays firing while any process sees its condition, and resolves
    once no process has seen it for ``resolve_after_s`` (default: 4 intervals, at least 60 s).
    """

    enabled: bool = Field(
        True, description="false: no signals, no rule evaluation (pushed events still notify)"
    )
    interval_s: float = Field(15.0, gt=0, le=3600, description="how often rules are evaluated")
    bucket_s: float = Field(60.0, gt=0, le=3600)
    buckets: int = Field(180, ge=2, le=10_080)
    max_deployments: int = Field(512, ge=1, description="signals kept for this many at most")
    resolve_after_s: float | None = Field(
        None,
        gt=0,
        description="seconds a rule's condition stays clear before its alert resolves "
        "(default: 4 x interval_s, at least 60)",
    )
    rules: list[AlertRuleSettings] = Field(default_factory=list)
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    webhook_attempts: int = Field(5, ge=1, le=20)
    webhook_backoff_s: float = Field(0.5, gt=0, le=60)
    webhook_timeout_s: float = Field(5.0, gt=0, le=60)
    max_pending: int = Field(1000, ge=1, description="notifications queued; beyond: dropped")
    runbook_base_url: str = Field(
        DEFAULT_RUNBOOK_BASE, description="where docs/runbooks is published (path or URL)"
    )

    @model_validator(mode="before")
    @classmethod
    def _runbooks_at_base(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("rules"), list):
            base = str(data.get("runbook_base_url") or DEFAULT_RUNBOOK_BASE)
            data = {**data, "rules": [_with_runbook(r, base) for r in data["rules"]]}
        return data

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, value: list[AlertRuleSettings]) -> list[AlertRuleSettings]:
        names = [r.name for r in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"alert rule names must be unique; repeated: {', '.join(dupes)}")
        return value

    @field_validator("webhooks")
    @classmethod
    def _unique_webhooks(cls, value: list[WebhookSettings]) -> list[WebhookSettings]:
        names = [w.name for w in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"webhook names must be unique; repeated: {', '.join(dupes)}")
        return value

    @model_validator(mode="after")
    def _windows_fit(self) -> AlertSettings:
        kept = self.bucket_s * self.buckets
        for rule in self.rules:
            span = rule.window_s + (rule.baseline_s if rule.kind == "cost_anomaly" else 0.0)
            if span > kept:
                raise ValueError(
                    f"rule {rule.name!r} looks back {span:g}s but signals are kept for "
                    f"{kept:g}s (bucket_s x buckets); raise alerts.buckets or shorten the window"
                )
        return self

    @property
    def resolve_grace_s(self) -> float:
        if self.resolve_after_s is not None:
            return self.resolve_after_s
        return max(60.0, 4 * self.interval_s)

    def window_buckets(self, seconds: float) -> int:
        """How many buckets cover ``seconds`` (at least one)."""
        return max(1, math.ceil(seconds / self.bucket_s - 1e-9))
