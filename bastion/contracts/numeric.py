"""A whole-batch check for the commonest tabular contract: an object of named numbers.

``{"type": "object", "properties": {name: {"type": "number", "minimum": …}}, "required": …}``
is what a tabular model's signature becomes. Checking it item by item through a JSON Schema
validator costs a few microseconds per row (a type test per cell); a batch job sends a
million rows. Here one batch is checked in a few C-level passes: every item a dict whose keys
are exactly the named features, every value a plain int or float (never a bool), then the
bounds of every column at once with numpy.

The check only ever says *certainly valid*. Anything else (a missing or extra key, a string,
a bool, a value out of bounds, a non-finite number) answers False, and the caller re-checks
with the JSON Schema validator, which words the error exactly as before. So the contract's
meaning is unchanged: this is a shortcut for batches that pass, never a second rule set.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bastion.core.columns import FeatureRows

_PLAIN = frozenset({int, float})
_EXACT = float(2**53)
# top-level keywords that either cannot affect an object item or are handled here
_TOP = frozenset(
    {
        "$schema",
        "title",
        "description",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
    }
)
_FIELD = frozenset(
    {"type", "title", "description", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
)
_BOUNDS: dict[str, Callable[[Any, Any], Any]] = {
    "minimum": operator.ge,
    "maximum": operator.le,
    "exclusiveMinimum": operator.gt,
    "exclusiveMaximum": operator.lt,
}


@dataclass(frozen=True, slots=True)
class NumericRecords:
    """The batch check for one schema (see the module's docstring)."""

    names: tuple[str, ...]
    keys: frozenset[str]
    bounds: tuple[tuple[int, Callable[[Any, Any], Any], float], ...]

    def all_valid(self, items: Sequence[Any]) -> bool:
        """True only when every item certainly satisfies the schema."""
        keys, plain = self.keys, _PLAIN
        for item in items:
            if type(item) is not dict or item.keys() != keys:
                return False
            if not plain.issuperset(map(type, item.values())):
                return False
        if not self.bounds:
            return True
        names = self.names
        try:
            matrix = np.array([[item[n] for n in names] for item in items], dtype=np.float64)
        except (OverflowError, ValueError, TypeError):
            return False
        if not np.isfinite(matrix).all() or np.abs(matrix).max() >= _EXACT:
            return False  # beyond 2**53 a float comparison could round an int over a bound
        return all(bool(op(matrix[:, j], limit).all()) for j, op, limit in self.bounds)

    def valid_rows(self, matrix: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Per row of a float64 matrix (columns in ``names`` order): certainly valid?

        A row is when every cell is finite (a null read from a file is NaN here), within
        ±2**53 (exact as a float) and within the bounds; the rest go the row path.
        """
        with np.errstate(invalid="ignore"):
            ok: np.ndarray[Any, Any] = (np.abs(matrix) < _EXACT).all(axis=1)  # NaN, inf: False
            for j, op, limit in self.bounds:
                ok &= op(matrix[:, j], limit)
        return ok

    def valid_columns(self, columns: Sequence[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
        """``valid_rows`` of the matrix whose columns are ``columns`` (float64, ``names``
        order), checked column by column: contiguous passes, no matrix needed."""
        ok: np.ndarray[Any, Any] = np.ones(len(columns[0]) if columns else 0, dtype=bool)
        with np.errstate(invalid="ignore"):
            for column in columns:
                ok &= np.abs(column) < _EXACT  # NaN, inf: False
            for j, op, limit in self.bounds:
                ok &= op(columns[j], limit)
        return ok

    def certify(self, rows: FeatureRows) -> FeatureRows:
        """``rows`` (made of rows ``valid_rows`` passed) marked as checked by this check."""
        rows.checked_by = self
        return rows

    def columns_valid(self, rows: FeatureRows) -> bool:
        """``all_valid`` for a columnar batch: its names in this order, every row valid."""
        if rows.names != self.names:
            return False
        return rows.checked_by is self or bool(self.valid_rows(rows.matrix).all())


def numeric_records(schema: Mapping[str, Any] | None) -> NumericRecords | None:
    """The batch check for ``schema`` when it is an object of named numbers, else None."""
    if schema is None or not set(schema) <= _TOP:
        return None
    kinds = schema.get("type")
    if not (kinds == "object" or (isinstance(kinds, list) and "object" in kinds)):
        return None
    properties = schema.get("properties")
    required = schema.get("required") or []
    if not isinstance(properties, Mapping) or not properties:
        return None
    if schema.get("additionalProperties", True) is not False or set(required) != set(properties):
        return None
    names = tuple(properties)
    bounds: list[tuple[int, Callable[[Any, Any], Any], float]] = []
    for j, name in enumerate(names):
        field = properties[name]
        if not isinstance(field, Mapping) or not set(field) <= _FIELD:
            return None
        if field.get("type") != "number":
            return None
        for keyword, op in _BOUNDS.items():
            limit = field.get(keyword)
            if limit is None:
                continue
            if isinstance(limit, bool) or not isinstance(limit, int | float):
                return None
            bounds.append((j, op, float(limit)))
    return NumericRecords(names, frozenset(names), tuple(bounds))
