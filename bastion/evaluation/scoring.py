"""Scoring a run: every scorer overall and on each ``dim=value`` slice, and per metric the
largest gap between two slices of one dimension (a fairness check)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations, Scorer
from bastion.evaluation.entities import EvalRow
from bastion.evaluation.scorers import lower_is_better


def score(scorers: Sequence[Scorer], obs: Observations, where: str = "") -> dict[str, float]:
    """Every scorer's metrics merged; a scorer's error names the slice it was scoring."""
    out: dict[str, float] = {}
    for scorer in scorers:
        try:
            out.update(scorer.score(obs))
        except InvalidRequest as exc:
            if not where:
                raise
            raise InvalidRequest(f"{where}: {exc.message}", details=exc.details) from exc
    return out


def slice_index(rows: Sequence[EvalRow]) -> dict[str, list[int]]:
    """``"dim=value"`` → the rows tagged so, in a stable order (dimension, then value)."""
    index: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        for dim, value in row.slices.items():
            index.setdefault(f"{dim}={value}", []).append(i)
    return dict(sorted(index.items()))


def score_slices(
    scorers: Sequence[Scorer], obs: Observations, rows: Sequence[EvalRow]
) -> dict[str, dict[str, Any]]:
    """Per slice: its row count and metrics. Rows without tags belong to no slice."""
    return {
        key: {"rows": len(index), "metrics": score(scorers, obs.subset(index), f"slice {key}")}
        for key, index in slice_index(rows).items()
    }


def slice_gaps(slices: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per metric, the dimension whose best and worst slices differ most (absolute), with
    both slices and values; dimensions with a single slice have no gap."""
    by_dim: dict[str, dict[str, dict[str, float]]] = {}
    for key, result in slices.items():
        dim, _, value = key.partition("=")
        by_dim.setdefault(dim, {})[value] = result["metrics"]
    gaps: dict[str, dict[str, Any]] = {}
    for dim, values in by_dim.items():
        metrics = {m for per in values.values() for m in per}
        for metric in sorted(metrics):
            scored = {v: per[metric] for v, per in values.items() if metric in per}
            if len(scored) < 2:
                continue
            ranked = sorted(scored.items(), key=lambda kv: kv[1])
            best, worst = ranked[-1], ranked[0]
            if lower_is_better(metric):
                best, worst = worst, best
            gap = ranked[-1][1] - ranked[0][1]
            if metric not in gaps or gap > gaps[metric]["gap"]:
                gaps[metric] = {
                    "gap": gap,
                    "dimension": dim,
                    "best": f"{dim}={best[0]}",
                    "best_value": best[1],
                    "worst": f"{dim}={worst[0]}",
                    "worst_value": worst[1],
                }
    return dict(sorted(gaps.items()))
