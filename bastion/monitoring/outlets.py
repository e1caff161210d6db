"""Where monitoring reports to, each optional: metrics gauges, alerts and the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from bastion.monitoring.accuracy import Quality
    from bastion.monitoring.report import DriftReport
    from bastion.observability.metrics import Metrics
    from bastion.observability.sinks import AlertSink, AuditSink
    from bastion.security.encryption import Encryptor

log = structlog.get_logger(__name__)

QUALITY_METRICS = ("accuracy", "macro_f1", "mae", "rmse", "mean_score", "labelled")


class Outlets:
    """Where monitoring reports to, handed at construction (each None when that concern is off).

    Accuracy goes to ``bastion_model_quality{deployment, version, window, segment, value,
    metric}`` (registered on the app's own registry), drift to the observability team's
    ``drift_score{deployment, signal}`` (``_overall`` is the share of drifted signals), and
    dropped log entries to ``bastion_prediction_log_dropped_total``. ``encryptor`` seals the
    prediction log's payloads.
    """

    def __init__(
        self,
        *,
        metrics: Metrics | None = None,
        alerts: AlertSink | None = None,
        audit: AuditSink | None = None,
        encryptor: Encryptor | None = None,
    ) -> None:
        self.metrics = metrics
        self.alerts = alerts
        self.audit_log = audit
        self.encryptor = encryptor
        self._quality: Any = None
        self._dropped: Any = None
        self._alerted: set[str] = set()
        registry = metrics.registry if metrics is not None else None
        if registry is None:
            return
        from prometheus_client import Counter, Gauge

        self._quality = Gauge(
            "bastion_model_quality",
            "Accuracy, macro-F1, MAE, RMSE, mean score and label count from feedback",
            ["deployment", "version", "window", "segment", "value", "metric"],
            multiprocess_mode="livemostrecent",
            registry=registry,
        )
        self._dropped = Counter(
            "bastion_prediction_log_dropped",
            "Predictions not logged because the log's queue was full",
            registry=registry,
        )

    def dropped(self) -> None:
        if self._dropped is not None:
            self._dropped.inc()

    def quality(self, deployment: str, figures: Iterable[Quality]) -> None:
        if self._quality is None:
            return
        for q in figures:
            for metric in QUALITY_METRICS:
                value = getattr(q, metric)
                if value is None:
                    continue
                self._quality.labels(
                    deployment, str(q.version), q.window, q.segment, q.value, metric
                ).set(float(value))

    def drift(self, report: DriftReport) -> None:
        gauge = getattr(self.metrics, "drift_score", None)
        if gauge is None or not hasattr(gauge, "labels"):
            return
        try:
            gauge.labels(deployment=report.deployment, signal="_overall").set(report.score)
            for s in report.signals():
                value = next((v for v in (s.psi, s.shift, s.ks_stat, s.js) if v is not None), None)
                if value is not None:
                    gauge.labels(deployment=report.deployment, signal=s.name).set(value)
        except ValueError:  # the gauge's labels changed under us: skip rather than fail
            log.warning("drift_gauge_unset", deployment=report.deployment)

    async def drift_alert(self, report: DriftReport) -> None:
        """Fire ``drift_detected`` while a version drifts; resolve once it is ok again.

        Not when a configured ``drift`` alert rule covers the deployment: that rule pages for
        this drift, and one drift pages once."""
        alerts = self.alerts
        key = f"drift:{report.deployment}:{report.version}"
        if alerts is None or _rule_covers(alerts, report.deployment):
            return
        if report.status == "drift" and key not in self._alerted:
            drifted = report.drifted()
            await alerts.fire(
                "drift_detected",
                severity="warning",
                deployment=report.deployment,
                summary=(
                    f"{report.deployment} v{report.version}: drift in {len(drifted)} signal(s): "
                    + ", ".join(drifted[:5])
                ),
                details={"version": report.version, "rows": report.rows, "signals": drifted},
                dedupe_key=key,
            )
            self._alerted.add(key)
        elif report.status == "ok" and key in self._alerted:
            await alerts.resolve(key)
            self._alerted.discard(key)

    async def audit(self, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
        audit = self.audit_log
        if audit is None:
            log.info("monitoring_audit_unrecorded", actor=actor, action=action, target=target)
            return
        await audit.admin(actor, action, target, details)


def _rule_covers(alerts: Any, deployment: str) -> bool:
    """Whether a configured alert rule of kind ``drift`` watches ``deployment``."""
    rules = getattr(getattr(alerts, "settings", None), "rules", None) or []
    return any(
        r.kind == "drift" and (r.deployments is None or deployment in r.deployments) for r in rules
    )
