"""How feedback is checked: its arguments, and its label against what the model predicts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bastion.errors import InvalidRequest
from bastion.monitoring.features import label_key, number
from bastion.store.monitoring_tables import PredictionRow

SOURCES = ("feedback", "override", "review")


def check_args(index: int, label: Any, score: float | None, source: str) -> None:
    if source not in SOURCES:
        raise InvalidRequest(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidRequest("index: must be an integer >= 0", details={"field": "index"})
    if label is None and score is None:
        raise InvalidRequest(
            "send a 'label' (the true answer) or a 'score' (how good the answer was), or both",
            details={"field": "label"},
        )
    if score is not None and number(score) is None:
        raise InvalidRequest("score: must be a finite number", details={"field": "score"})


def allowed_classes(signature: Mapping[str, Any], output_schema: Any) -> list[str] | None:
    """The classes a classifier may answer, from its output contract: the signature's
    ``classes``, else an ``enum`` of the output (or of its ``label`` property); None if open."""
    found: Any = signature.get("classes")
    if not isinstance(found, list) and isinstance(output_schema, Mapping):
        found = output_schema.get("enum")
        label = (output_schema.get("properties") or {}).get("label")
        if not isinstance(found, list) and isinstance(label, Mapping):
            found = label.get("enum")
    if not isinstance(found, list) or not found:
        return None
    keys = [label_key(c) for c in found]
    return [k for k in keys if k is not None] or None


def judge(row: PredictionRow, label: Any, allowed: list[str] | None = None) -> dict[str, Any]:
    """The label as compared (``label_key``/``label_value``) and its verdict, or 422 — also
    for a class outside ``allowed`` (the output contract's classes), naming them."""
    out: dict[str, Any] = {
        "task": "other",
        "label_key": None,
        "label_value": None,
        "correct": None,
        "abs_error": None,
    }
    if row.label is not None:
        out["task"] = "classification"
        if label is not None:
            given = label.get("label") if isinstance(label, Mapping) else label
            key = label_key(given) if _fits(given, row.label) else None
            if key is None:
                raise InvalidRequest(
                    f"label: deployment {row.deployment!r} predicts class labels; send the true "
                    f"class as a string (e.g. {row.label!r}), not {_kind(label)}",
                    details={"field": "label"},
                )
            if allowed is not None and key not in allowed:
                raise InvalidRequest(
                    f"label: {key!r} is not a class of deployment {row.deployment!r} "
                    f"(version {row.version}); allowed: {', '.join(allowed)}",
                    details={"field": "label", "allowed": allowed},
                )
            out.update(label_key=key, correct=key == row.label)
    elif row.value is not None:
        out["task"] = "regression"
        if label is not None:
            value = number(label.get("value") if isinstance(label, Mapping) else label)
            if value is None:
                raise InvalidRequest(
                    f"label: deployment {row.deployment!r} predicts numbers; send the true "
                    f"value as a finite number, not {_kind(label)}",
                    details={"field": "label"},
                )
            out.update(label_value=value, abs_error=abs(value - row.value))
    return out


def _fits(label: Any, predicted: str) -> bool:
    """Strings always; booleans for a true/false classifier; integers for integer classes."""
    if isinstance(label, bool):
        return predicted in ("true", "false")
    if isinstance(label, int):
        return predicted.lstrip("-").isdigit()
    return isinstance(label, str)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number" if math.isfinite(float(value)) else "a non-finite number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
