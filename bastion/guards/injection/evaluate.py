"""Per-kind scores and latency by text length for the injection evaluation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Text-length buckets (upper bounds, characters) for the latency table.
LENGTH_BUCKETS = (100, 500, 1000, 2000, 4000)


@dataclass(frozen=True, slots=True)
class KindScores:
    """Confusion counts of one kind (a kind holds attacks, benign texts or both)."""

    kind: str
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def examples(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p is not None and r is not None and p + r else None

    @property
    def false_positive_rate(self) -> float | None:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else None


@dataclass(frozen=True, slots=True)
class LengthLatency:
    """Latency of single checks for texts up to ``up_to`` characters (0: longer)."""

    up_to: int
    examples: int
    p50_ms: float
    p99_ms: float


def per_kind(
    kinds: Sequence[str], labels: Sequence[int], flagged: Sequence[bool]
) -> list[KindScores]:
    counts: dict[str, list[int]] = {}
    for kind, label, hit in zip(kinds, labels, flagged, strict=True):
        row = counts.setdefault(kind, [0, 0, 0, 0])
        row[(0 if hit else 2) if label else (1 if hit else 3)] += 1
    return [KindScores(k, *c) for k, c in sorted(counts.items())]


def bucket_of(length: int) -> int:
    return next((b for b in LENGTH_BUCKETS if length <= b), 0)


def by_length(
    lengths: Sequence[int],
    timings: Sequence[float],
    pct: Callable[[Sequence[float], float], float],
) -> list[LengthLatency]:
    groups: dict[int, list[float]] = {}
    for n, t in zip(lengths, timings, strict=True):
        groups.setdefault(bucket_of(n), []).append(t)
    order = [*LENGTH_BUCKETS, 0]
    return [
        LengthLatency(b, len(groups[b]), pct(groups[b], 0.5), pct(groups[b], 0.99))
        for b in order
        if b in groups
    ]


def _fmt(x: float | None) -> str:
    return f"{x:.3f}" if x is not None else "  -  "


def format_kinds(rows: Sequence[KindScores]) -> list[str]:
    lines = [f"{'kind':<22} {'n':>4}  precision recall  f1     fpr    tp   fp   fn   tn"]
    for r in rows:
        lines.append(
            f"{r.kind:<22} {r.examples:>4}  {_fmt(r.precision):<9} {_fmt(r.recall):<7} "
            f"{_fmt(r.f1):<6} {_fmt(r.false_positive_rate):<6} {r.tp:<4} {r.fp:<4} {r.fn:<4} "
            f"{r.tn}"
        )
    return lines


def format_lengths(rows: Sequence[LengthLatency]) -> list[str]:
    lines = ["characters   n     p50 ms   p99 ms"]
    for r in rows:
        label = f"<= {r.up_to}" if r.up_to else f"> {LENGTH_BUCKETS[-1]}"
        lines.append(f"{label:<12} {r.examples:<5} {r.p50_ms:<8.2f} {r.p99_ms:.2f}")
    return lines
