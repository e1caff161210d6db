"""Data rules: ranges, allowed categories, nullability, patterns, cross-field comparisons.

Each rule checks one row (a mapping of field → value) and returns what is wrong, or None.
Rules are plain frozen values compiled once; checking a row costs a few dictionary reads.
A missing or null field breaks only ``not_null`` (other rules leave it to that one).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bastion.settings.data import DataRuleSettings

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class Violation:
    """A row broke ``rule`` at ``field``: the reason code is the rule's name."""

    rule: str
    field: str
    message: str

    def view(self) -> dict[str, str]:
        return {"rule": self.rule, "field": self.field, "message": self.message}


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    field: str
    kind: str
    low: float | None = None
    high: float | None = None
    allowed: frozenset[Any] = frozenset()
    regex: re.Pattern[str] | None = None
    op: str | None = None
    other: str | None = None
    learned: bool = False

    def check(self, row: Mapping[str, Any]) -> str | None:
        value = row.get(self.field)
        if self.kind == "not_null":
            return "is missing or null" if _absent(value) else None
        if _absent(value):
            return None
        if self.kind == "range":
            return self._range(value)
        if self.kind == "categories":
            if value in self.allowed:
                return None
            shown = ", ".join(sorted(map(str, self.allowed))[:10])
            return f"{value!r} is not an allowed category ({shown})"
        if self.kind == "pattern":
            assert self.regex is not None
            if isinstance(value, str) and self.regex.fullmatch(value):
                return None
            return f"{value!r} does not match /{self.regex.pattern}/"
        return self._compare(value, row)

    def _range(self, value: Any) -> str | None:
        number = _number(value)
        if number is None:
            return f"{value!r} is not a number"
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            where = "the training range" if self.learned else "the range"
            return f"{number:g} is outside {where} [{_fmt(self.low)}, {_fmt(self.high)}]"
        return None

    def _compare(self, value: Any, row: Mapping[str, Any]) -> str | None:
        assert self.op is not None and self.other is not None
        other = row.get(self.other)
        if _absent(other):
            return None
        try:
            holds = _OPS[self.op](value, other)
        except TypeError:
            holds = False
        return None if holds else f"{value!r} {self.op} {self.other} ({other!r}) does not hold"


def _fmt(bound: float | None) -> str:
    return "-inf" if bound is None else f"{bound:g}"


def compile_rules(rules: Iterable[DataRuleSettings]) -> tuple[Rule, ...]:
    return tuple(
        Rule(
            name=r.name,
            field=r.field,
            kind=r.kind,
            low=r.min,
            high=r.max,
            allowed=frozenset(r.allowed or ()),
            regex=re.compile(r.pattern) if r.pattern is not None else None,
            op=r.op,
            other=r.other,
        )
        for r in rules
    )


def check_row(rules: tuple[Rule, ...], row: Any) -> list[Violation]:
    """Every rule ``row`` breaks (a row that is not an object breaks the first rule)."""
    if not rules:
        return []
    if not isinstance(row, Mapping):
        return [Violation("row_shape", "", "the row is not an object of named fields")]
    out = []
    for rule in rules:
        message = rule.check(row)
        if message is not None:
            out.append(Violation(rule.name, rule.field, f"{rule.field}: {message}"))
    return out
