"""This process's rollout counters, keyed by (kind, deployment, run, arm), and their merging
with the counters other processes persisted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bastion.routing.rollouts.entities import StatsRecord
from bastion.routing.rollouts.stats import ArmStats, ShadowCounters

if TYPE_CHECKING:
    from bastion.routing.rollouts.store import RolloutStore

Key = tuple[str, str, str, str]  # kind, deployment, run, arm


@dataclass(slots=True)
class StatsBook:
    """Cumulative counters of this process; ``dirty`` names those changed since the last flush."""

    process: str
    arms: dict[Key, ArmStats] = field(default_factory=dict)
    shadows: dict[Key, ShadowCounters] = field(default_factory=dict)
    models: dict[Key, str] = field(default_factory=dict)
    dirty: set[Key] = field(default_factory=set)

    def arm(self, kind: str, deployment: str, run: str, arm: str, model: str) -> ArmStats:
        key = (kind, deployment, run, arm)
        stats = self.arms.get(key)
        if stats is None:
            stats = self.arms[key] = ArmStats()
            self.models[key] = model
        self.dirty.add(key)
        return stats

    def shadow(self, deployment: str, run: str, model: str) -> ShadowCounters:
        key = ("shadow", deployment, run, "candidate")
        counters = self.shadows.get(key)
        if counters is None:
            counters = self.shadows[key] = ShadowCounters()
            self.models[key] = model
        self.dirty.add(key)
        return counters

    def take_dirty(self) -> list[StatsRecord]:
        """Snapshots of everything changed since the last call (then marked clean)."""
        out = []
        for key in sorted(self.dirty):
            kind, deployment, run, arm = key
            data: dict[str, Any]
            if key in self.shadows:
                data = self.shadows[key].to_dict()
            elif key in self.arms:
                data = self.arms[key].to_dict()
            else:
                continue
            out.append(StatsRecord(kind, deployment, run, arm, self.models[key], data))
        self.dirty.clear()
        return out


def merged_arms(
    records: Iterable[StatsRecord], book: StatsBook, kind: str, deployment: str, run: str
) -> dict[str, ArmStats]:
    """Per arm: every other process's persisted counters plus this process's live ones."""
    out: dict[str, ArmStats] = {}
    for rec in records:
        if rec.process != book.process and rec.run == run:
            out.setdefault(rec.arm, ArmStats()).merge(ArmStats.from_dict(rec.data))
    for (k, d, r, arm), stats in book.arms.items():
        if (k, d, r) == (kind, deployment, run):
            out.setdefault(arm, ArmStats()).merge(stats)
    return out


def merged_shadows(
    records: Iterable[StatsRecord], book: StatsBook, deployment: str | None = None
) -> dict[tuple[str, str, str], ShadowCounters]:
    """Per (deployment, model, run): persisted counters of other processes plus this one's."""
    out: dict[tuple[str, str, str], ShadowCounters] = {}
    for rec in records:
        if rec.process != book.process:
            key = (rec.deployment, rec.model, rec.run)
            out.setdefault(key, ShadowCounters()).merge(ShadowCounters.from_dict(rec.data))
    for full, counters in book.shadows.items():
        if deployment is None or full[1] == deployment:
            key = (full[1], book.models[full], full[2])
            out.setdefault(key, ShadowCounters()).merge(counters)
    return out


def candidate_agreement(
    records: Iterable[StatsRecord], book: StatsBook, model: str, version: int
) -> tuple[float | None, int]:
    """``(agreement, compared outputs)`` of shadow candidate ``version`` of ``model`` over
    every deployment and process (persisted counters plus ``book``'s unflushed ones)."""
    total = ShadowCounters()
    for (_, name, run), counters in merged_shadows(records, book).items():
        if name == model and run == f"v{version}":
            total.merge(counters)
    return total.agreement, total.compared


class ShadowAgreement:
    """A candidate's shadow agreement read fresh from the store (every process's persisted
    counters) plus ``book``'s unflushed ones: the promotion gates' shadow source."""

    def __init__(self, store: RolloutStore, book: StatsBook) -> None:
        self._store = store
        self._book = book

    async def __call__(self, model: str, version: int) -> tuple[float | None, int]:
        records = await self._store.load_stats("shadow", model=model, run=f"v{version}")
        return candidate_agreement(records, self._book, model, version)
