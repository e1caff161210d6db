"""Retrieval scorers for eval sets whose expected values are gold document ids:
``recall_at_k[:K]`` (share of gold documents among the first K retrieved, averaged over rows)
and ``mrr[:K]`` (mean reciprocal rank of the first gold document within the first K).

An output is a ranked list of document ids, or of citations (objects with ``document_id``,
``doc_id`` or ``id``), or an object holding such a list under ``citations`` or ``data``. Several
chunks of one document count once, at the rank of the first. The expected value is one id or
a list of ids; rows without any gold id are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations

_ID_FIELDS = ("document_id", "doc_id", "id")


def ranked_ids(output: Any) -> list[str]:
    """The distinct document ids of a retrieval output, best first."""
    if isinstance(output, dict):
        output = output.get("citations", output.get("data", []))
    if not isinstance(output, list):
        return []
    out: list[str] = []
    for item in output:
        found = item if isinstance(item, str) else None
        if isinstance(item, dict):
            found = next((str(item[f]) for f in _ID_FIELDS if item.get(f) is not None), None)
        if found is not None and found not in out:
            out.append(found)
    return out


def gold_ids(expected: Any) -> set[str]:
    if expected is None:
        return set()
    items = expected if isinstance(expected, list) else [expected]
    return {str(e) for e in items if e is not None}


def parse_k(arg: str, spec: str, default: int = 10) -> int:
    if not arg:
        return default
    if not arg.isdigit() or not 1 <= int(arg) <= 1000:
        name = spec.split(":", maxsplit=1)[0]
        raise InvalidRequest(
            f"scorer {spec!r}: K must be a whole number 1-1000 (e.g. {name}:5)",
            details={"field": "scorers"},
        )
    return int(arg)


def _rows(obs: Observations) -> list[tuple[list[str], set[str]]]:
    rows = []
    for value, raw, expected in zip(obs.values, obs.raw, obs.expected, strict=True):
        gold = gold_ids(expected)
        if gold:
            rows.append((ranked_ids(value) or ranked_ids(raw), gold))
    return rows


@dataclass(frozen=True, slots=True)
class RecallAtK:
    k: int = 10
    name: str = "recall_at_k"

    def score(self, obs: Observations) -> dict[str, float]:
        rows = _rows(obs)
        if not rows:
            return {}
        total = sum(len(set(ranked[: self.k]) & gold) / len(gold) for ranked, gold in rows)
        return {f"recall@{self.k}": total / len(rows)}


@dataclass(frozen=True, slots=True)
class MeanReciprocalRank:
    k: int = 10
    name: str = "mrr"

    def score(self, obs: Observations) -> dict[str, float]:
        rows = _rows(obs)
        if not rows:
            return {}
        return {
            "mrr": sum(_reciprocal(ranked[: self.k], gold) for ranked, gold in rows) / len(rows)
        }


def _reciprocal(ranked: Sequence[str], gold: set[str]) -> float:
    return next((1.0 / (i + 1) for i, doc in enumerate(ranked) if doc in gold), 0.0)
