"""The narrow seams through which other concerns report: audit and alerts.

Each protocol holds only the methods its consumers call, so that a consumer is handed the
sink at construction (``None`` when that concern is switched off) instead of looking a
service up by name on ``Services`` after the fact. ``AuditLog`` and ``AlertManager`` satisfy
them; tests hand small fakes. Metrics go to the app's Prometheus ``CollectorRegistry``,
handed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bastion.observability.audit.record import AuditEntry


class AuditSink(Protocol):
    """Where admin actions and queued entries go (``AuditLog``)."""

    async def admin(
        self, actor: Any, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> None: ...

    def append_soon(self, entry: AuditEntry) -> None: ...


class AlertSink(Protocol):
    """Where pushed alerts go (``AlertManager``): fire once per dedupe key, then resolve."""

    async def fire(
        self,
        rule: str,
        *,
        severity: str,
        deployment: str | None,
        summary: str,
        details: dict[str, Any],
        dedupe_key: str,
        expires_at: datetime | None = None,
    ) -> None: ...

    async def resolve(self, dedupe_key: str) -> None: ...


class SignalSink(Protocol):
    """Where a concern pushes the current value of an alert signal (``AlertManager``)."""

    def set_gauge(
        self,
        kind: str,
        subject: str,
        value: float,
        *,
        samples: int = 0,
        details: dict[str, Any] | None = None,
    ) -> None: ...
