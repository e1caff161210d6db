"""Numeric scorers: mean absolute error and root mean squared error; model-call latency."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations
from bastion.evaluation.outputs import number


def _numbers(obs: Observations) -> list[tuple[float, float]]:
    pairs = []
    for i, (value, expected) in enumerate(zip(obs.values, obs.expected, strict=True)):
        got, want = number(value), number(expected)
        if got is None:
            raise InvalidRequest(
                f"mae/rmse: row {i + 1}: the model's output {value!r} is not a number "
                "(choose the field to score with output_field, e.g. 'value')"
            )
        if want is None:
            raise InvalidRequest(f"mae/rmse: row {i + 1}: expected {expected!r} is not a number")
        pairs.append((got, want))
    return pairs


@dataclass(frozen=True, slots=True)
class NumericError:
    """Mean absolute error and root mean squared error of numeric outputs (lower is better)."""

    name: str = "mae"

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        pairs = _numbers(obs)
        errors = [got - want for got, want in pairs]
        return {
            "mae": sum(abs(e) for e in errors) / len(errors),
            "rmse": math.sqrt(sum(e * e for e in errors) / len(errors)),
        }


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    """p50 / p95 of the model calls' latency, in ms (each row counts its batch's call)."""

    name: str = "latency"

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        return {
            "latency_p50_ms": quantile(obs.latency_ms, 0.5),
            "latency_p95_ms": quantile(obs.latency_ms, 0.95),
        }
