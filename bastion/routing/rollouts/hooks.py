"""Cross-team outlets of rollouts: audit records, alerts and feedback, handed at construction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from bastion.observability.sinks import AlertSink, AuditSink
    from bastion.routing.rollouts.ab import OutcomeSource

log = structlog.get_logger(__name__)


class Hooks:
    """The sinks of other concerns, each None when that concern is off: then an audit record
    or alert is only logged, and A/B reports carry no outcomes."""

    def __init__(
        self,
        audit: AuditSink | None = None,
        alerts: AlertSink | None = None,
        feedback: OutcomeSource | None = None,
    ) -> None:
        self._audit = audit
        self._alerts = alerts
        self.feedback = feedback

    async def audit(self, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
        if self._audit is None:
            log.info("rollout_audit_unrecorded", actor=actor, action=action, target=target)
            return
        await self._audit.admin(actor, action, target, details)

    async def alert(
        self,
        rule: str,
        *,
        severity: str,
        deployment: str | None,
        summary: str,
        details: dict[str, Any],
        dedupe_key: str,
    ) -> None:
        if self._alerts is None:
            log.warning("rollout_alert_unsent", rule=rule, deployment=deployment, summary=summary)
            return
        await self._alerts.fire(
            rule,
            severity=severity,
            deployment=deployment,
            summary=summary,
            details=details,
            dedupe_key=dedupe_key,
        )
