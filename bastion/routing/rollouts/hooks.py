"""Cross-team outlets of rollouts: audit records and alerts, used when the app provides them."""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Hooks:
    """Looks ``audit`` and ``alerts`` up on the app's Services at call time.

    Both belong to other concerns and may be absent (an older build, a CLI without them):
    then the record is only logged. Services is attached after the composition root built it.
    """

    def __init__(self, services: Any = None) -> None:
        self._services = services

    def attach(self, services: Any) -> None:
        self._services = services

    def lookup(self, name: str) -> Any:
        """A service of another concern (``feedback``, ``metrics`` …), or None when absent."""
        return getattr(self._services, name, None)

    async def audit(self, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
        audit = getattr(self._services, "audit", None)
        if audit is None:
            log.info("rollout_audit_unrecorded", actor=actor, action=action, target=target)
            return
        await audit.admin(actor, action, target, details)

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
        alerts = getattr(self._services, "alerts", None)
        if alerts is None:
            log.warning("rollout_alert_unsent", rule=rule, deployment=deployment, summary=summary)
            return
        await alerts.fire(
            rule,
            severity=severity,
            deployment=deployment,
            summary=summary,
            details=details,
            dedupe_key=dedupe_key,
        )
