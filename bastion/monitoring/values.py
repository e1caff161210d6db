"""How raw values are read: missing, numeric, categorical keys, and rounding for JSON."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MISSING = "__missing__"
OTHER = "__other__"


def is_missing(value: Any) -> bool:
    """None or NaN (a Python or numpy float)."""
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def as_float(value: Any) -> float:
    """``float(value)`` as numpy would convert it; NaN for anything missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def category_key(value: Any) -> str:
    """Categories are compared as strings: ``7`` and ``"7"`` are one category."""
    return value if isinstance(value, str) else str(value)


def round_sig(value: float, digits: int) -> float:
    """Round to ``digits`` significant digits, so the JSON stays short and round-trips exactly."""
    return float(f"{float(value):.{digits}g}")
