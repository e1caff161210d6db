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


def judge(row: PredictionRow, label: Any) -> dict[str, Any]:
    """The label as compared (``label_key``/``label_value``) and its verdict, or 422."""
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
