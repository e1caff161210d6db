"""Alerts as entities, and the AlertHistory seam that keeps them (SQL: store/alerts_tables.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Source = Literal["rule", "event"]
State = Literal["firing", "resolved"]


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert about to fire: ``rule`` evaluated here (``source="rule"``) or an event
    pushed by another part of Bastion (``source="event"``)."""

    dedupe_key: str
    rule: str
    kind: str
    severity: str
    summary: str
    deployment: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    source: Source = "rule"
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One firing of one alert, from ``fired_at`` until ``resolved_at``.

    ``last_seen_at``/``last_seen_by``: when and by which process its condition was last
    seen; the alert is resolved once no process has seen it for a grace period.
    """

    id: int
    dedupe_key: str
    rule: str
    kind: str
    source: str
    deployment: str | None
    severity: str
    summary: str
    details: dict[str, Any]
    fired_at: datetime
    last_seen_at: datetime
    last_seen_by: str
    resolved_at: datetime | None = None
    expires_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: str | None = None

    @property
    def state(self) -> State:
        return "firing" if self.resolved_at is None else "resolved"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state
        for key in ("fired_at", "last_seen_at", "resolved_at", "expires_at", "acked_at"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


class AlertHistory(Protocol):
    """Active alerts (at most one per dedupe key, across every process) and their history."""

    async def open(self, alert: NewAlert, *, at: datetime, by: str) -> Alert | None:
        """Make ``alert`` active unless one with its key already is (then mark it seen).

        Returns the new Alert only if this call created it: its caller notifies.
        """
        ...

    async def touch(self, dedupe_key: str, *, at: datetime, by: str) -> bool:
        """Mark the active alert of ``dedupe_key`` seen; False when none is active."""
        ...

    async def close(
        self, dedupe_key: str, *, at: datetime, unseen_since: datetime | None = None
    ) -> Alert | None:
        """Resolve the active alert of ``dedupe_key`` (only if not seen since
        ``unseen_since``, when given). Returns it only if this call resolved it."""
        ...

    async def active(self) -> list[Alert]:
        """Every active alert, oldest first."""
        ...

    async def history(
        self,
        *,
        state: State | None = None,
        deployment: str | None = None,
        rule: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Alert]:
        """Alerts newest first, optionally filtered; page with ``before_id``."""
        ...

    async def get(self, alert_id: int) -> Alert | None: ...

    async def ack(self, alert_id: int, *, actor: str, at: datetime) -> Alert | None:
        """Record who acknowledged an active alert; None if it is not active."""
        ...
