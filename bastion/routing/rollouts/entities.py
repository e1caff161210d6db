"""Rollout entities: canary runs, their events, and persisted per-process stats records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bastion.routing.rollouts.config import CanaryPlan
from bastion.store.rollouts_tables import CanaryRunRow

RUNNING = "running"


@dataclass(frozen=True, slots=True)
class CanaryRun:
    """One canary of one version against the deployment's stable version."""

    id: int
    deployment: str
    model: str
    version: int
    stable_version: int
    alias: str
    status: str
    step_index: int
    traffic: float
    plan: CanaryPlan
    started_by: str
    reason: str
    started_at: datetime
    step_started_at: datetime
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def stats_run(self) -> str:
        """The stats key of the current step: each step is analysed on its own traffic."""
        return f"c{self.id}:s{self.step_index}"

    @classmethod
    def from_row(cls, row: CanaryRunRow) -> CanaryRun:
        return cls(
            row.id,
            row.deployment,
            row.model,
            row.version,
            row.stable_version,
            row.alias,
            row.status,
            row.step_index,
            row.traffic,
            CanaryPlan.from_dict(dict(row.plan or {})),
            row.started_by,
            row.reason,
            row.started_at,
            row.step_started_at,
            row.finished_at,
        )


@dataclass(frozen=True, slots=True)
class CanaryEvent:
    id: int
    step_index: int
    traffic: float
    action: str
    actor: str
    reason: str
    details: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class StatsRecord:
    """One process's counters for one arm of one run."""

    kind: str
    deployment: str
    run: str
    arm: str
    model: str
    data: dict[str, Any]
    process: str = ""
