"""Scorers by name: ``accuracy``, ``f1`` (also ``precision``, ``recall``), ``exact_match``,
``regex[:PATTERN]``, ``json_schema[:SCHEMA]``, ``mae`` (also ``rmse``), ``latency``,
``groundedness[:THRESHOLD]`` (answers against their cited chunks), ``recall_at_k[:K]`` and
``mrr[:K]`` (retrieval, gold document ids) and
``custom:module:function``; ``auto`` picks from the expected values."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Scorer
from bastion.evaluation.outputs import number
from bastion.evaluation.scorers.classification import Accuracy, PrecisionRecallF1
from bastion.evaluation.scorers.custom import CustomScorer
from bastion.evaluation.scorers.groundedness import Groundedness
from bastion.evaluation.scorers.matching import ExactMatch, JsonSchemaValid, RegexMatch
from bastion.evaluation.scorers.numeric import Latency, NumericError
from bastion.evaluation.scorers.retrieval import MeanReciprocalRank, RecallAtK, parse_k

__all__ = ["build_scorers", "default_specs", "lower_is_better"]

_PLAIN: Mapping[str, Callable[[], Scorer]] = MappingProxyType(
    {
        "accuracy": Accuracy,
        "f1": PrecisionRecallF1,
        "precision": PrecisionRecallF1,
        "recall": PrecisionRecallF1,
        "exact_match": ExactMatch,
        "mae": NumericError,
        "rmse": NumericError,
        "latency": Latency,
    }
)
KNOWN = (*_PLAIN, "regex", "json_schema", "groundedness", "recall_at_k", "mrr", "custom", "auto")
_LOWER = frozenset({"mae", "rmse", "latency_p50_ms", "latency_p95_ms"})


def lower_is_better(metric: str) -> bool:
    """Error and latency metrics (and custom ones named ``*_error``, ``*_loss``, ``*_ms``)."""
    return metric in _LOWER or metric.endswith(("_error", "_loss", "_ms"))


def is_latency(metric: str) -> bool:
    return metric.startswith("latency_")


def default_specs(expected: Sequence[Any]) -> list[str]:
    """``auto``: numbers that are not all whole → error metrics; labels → classification."""
    values = [e for e in expected if e is not None]
    numeric = [number(e) for e in values if not isinstance(e, str)]
    whole = all(n is not None and n.is_integer() for n in numeric)
    if values and len(numeric) == len(values) and None not in numeric and not whole:
        return ["mae", "latency"]
    if values and all(isinstance(e, str | int | bool) for e in values):
        return ["accuracy", "f1", "latency"]
    return ["exact_match", "latency"]


def _schema(arg: str, output_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    if not arg:
        return dict(output_schema or {})
    try:
        schema = json.loads(arg)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"json_schema: the schema after 'json_schema:' is not JSON ({exc})"
        ) from exc
    if not isinstance(schema, dict):
        raise InvalidRequest("json_schema: the schema must be a JSON object")
    return schema


def _one(
    spec: str, output_schema: Mapping[str, Any] | None, allowed: Sequence[str] | None
) -> Scorer:
    name, _, arg = spec.strip().partition(":")
    if name in _PLAIN and not arg:
        return _PLAIN[name]()
    if name == "regex":
        return RegexMatch(arg or None)
    if name == "json_schema":
        return JsonSchemaValid(_schema(arg, output_schema))
    if name == "groundedness":
        return Groundedness.parse(arg)
    if name == "custom":
        return CustomScorer(arg, allowed)
    if name == "recall_at_k":
        return RecallAtK(parse_k(arg, spec))
    if name == "mrr":
        return MeanReciprocalRank(parse_k(arg, spec))
    raise InvalidRequest(
        f"scorer {spec!r}: unknown; known scorers: {', '.join(KNOWN)}", details={"field": "scorers"}
    )


def build_scorers(
    specs: Sequence[str],
    expected: Sequence[Any],
    *,
    output_schema: Mapping[str, Any] | None = None,
    allowed_modules: Sequence[str] | None = None,
) -> list[Scorer]:
    """The scorers named (``auto`` or none: chosen from ``expected``), each built once:
    ``precision``, ``recall`` and ``f1`` are one scorer, as are ``mae`` and ``rmse``."""
    chosen = [s for s in specs if s.strip() and s.strip() != "auto"]
    if not chosen:
        chosen = default_specs(expected)
    out: list[Scorer] = []
    seen: set[Any] = set()
    for spec in chosen:
        scorer = _one(spec, output_schema, allowed_modules)
        key = (
            type(scorer),
            getattr(scorer, "pattern", None),
            getattr(scorer, "ref", None) or getattr(scorer, "k", None),
        )
        if isinstance(scorer, Groundedness):
            key = (type(scorer), scorer.threshold, None)
        if isinstance(scorer, JsonSchemaValid):
            key = (type(scorer), json.dumps(scorer.schema, sort_keys=True), None)
        if key not in seen:
            seen.add(key)
            out.append(scorer)
    return out
