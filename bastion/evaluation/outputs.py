"""Which part of a model's output is scored, and how values are compared as labels."""

from __future__ import annotations

import json
import math
from typing import Any

AUTO_FIELDS = ("label", "value")


def scored_value(output: Any, field: str | None) -> Any:
    """The value a scorer compares: ``output[field]`` when configured (dotted paths reach
    nested objects), else ``label`` when the output has one (classifiers), else ``value``
    (regressors), else the whole output."""
    if field:
        current = output
        for part in field.split("."):
            if not isinstance(current, dict) or part not in current:
                return None
            current = current[part]
        return current
    if isinstance(output, dict):
        for name in AUTO_FIELDS:
            if name in output:
                return output[name]
    return output


def label(value: Any) -> str:
    """A canonical text for comparing labels: ``1``, ``1.0`` and ``"1"`` are one label."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if value is None:
        return "null"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def number(value: Any) -> float | None:
    """``value`` as a float (numbers and numeric strings), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
