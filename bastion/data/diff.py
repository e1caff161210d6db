"""Source and schema change detection: what arrives, compared with what the version expects.

The expectation is the served version's input schema (field names and types) and its
training profile (numeric medians and spread, categories). From a sample of rows (a batch
file's first rows, or a live window) ``schema_diff`` reports:

- ``new`` fields and ``missing`` ones (absent or null in every sampled row);
- ``renamed``: a missing field and a new one whose values look alike (same kind, medians
  within the reference's spread), paired one to one;
- ``type`` changes (a number field that arrives as text, …);
- ``new_categories`` of a categorical field never seen in training;
- ``unit`` shifts: a numeric field whose median moved by a factor ≥ ``unit_factor`` (10 by
  default: metres read as centimetres) while staying non-zero.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.monitoring import FeatureProfile, ReferenceProfile

_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string"}


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    rows: int
    new: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    renamed: list[dict[str, str]] = field(default_factory=list)
    type: list[dict[str, str]] = field(default_factory=list)
    new_categories: dict[str, list[str]] = field(default_factory=dict)
    unit: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return (
            len(self.new) + len(self.missing) + len(self.renamed) + len(self.type)
            + len(self.new_categories) + len(self.unit)
        )  # fmt: skip

    def view(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "changes": self.changes,
            "new": self.new,
            "missing": self.missing,
            "renamed": self.renamed,
            "type": self.type,
            "new_categories": self.new_categories,
            "unit": self.unit,
        }

    def summary(self) -> str:
        parts = [f"new {', '.join(self.new)}" if self.new else "",
                 f"missing {', '.join(self.missing)}" if self.missing else "",
                 *(f"renamed {r['from']} → {r['to']}" for r in self.renamed),
                 *(f"{t['field']} {t['expected']} → {t['seen']}" for t in self.type),
                 *(f"{f}: new categories {', '.join(c)}" for f, c in self.new_categories.items()),
                 *(f"{u['field']} scaled ×{u['factor']:g}" for u in self.unit)]  # fmt: skip
        return "; ".join(p for p in parts if p) or "no change"


def expected_fields(
    schema: Mapping[str, Any] | None, profile: ReferenceProfile | None
) -> dict[str, str]:
    """Field → JSON type, from the input schema's properties (else the profile's features)."""
    out: dict[str, str] = {}
    props = (schema or {}).get("properties")
    if isinstance(props, Mapping):
        for name, sub in props.items():
            kind = sub.get("type") if isinstance(sub, Mapping) else None
            out[str(name)] = kind if isinstance(kind, str) else "any"
    if not out and profile is not None:
        for f in profile.features:
            out[f.name] = "number" if f.kind == "numeric" else "string"
    return out


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ref_median(feature: FeatureProfile | None) -> tuple[float, float] | None:
    if feature is None or feature.kind != "numeric" or not feature.sample:
        return None
    s = feature.sample
    return s[len(s) // 2], (s[-1] - s[0]) or 1.0


def schema_diff(
    rows: Iterable[Any],
    expected: Mapping[str, str],
    profile: ReferenceProfile | None,
    *,
    unit_factor: float = 10.0,
) -> SchemaDiff:
    seen_types: dict[str, set[str]] = {}
    numbers: dict[str, list[float]] = {}
    strings: dict[str, set[str]] = {}
    count = 0
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        count += 1
        for name, value in row.items():
            if value is None:
                continue
            seen_types.setdefault(name, set()).add(_JSON_TYPES.get(type(value), "object"))
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers.setdefault(name, []).append(float(value))
            elif isinstance(value, str) and len(strings.setdefault(name, set())) < 1000:
                strings[name].add(value)
    features = {f.name: f for f in profile.features} if profile else {}
    new = sorted(set(seen_types) - set(expected))
    missing = sorted(set(expected) - set(seen_types))
    renamed = _renames(missing, new, numbers, features)
    paired = {r["from"] for r in renamed} | {r["to"] for r in renamed}
    diff = SchemaDiff(
        count,
        new=[n for n in new if n not in paired],
        missing=[m for m in missing if m not in paired],
        renamed=renamed,
    )
    for name, kinds in sorted(seen_types.items()):
        want = expected.get(name)
        if want in ("number", "string", "boolean") and kinds - {want}:
            diff.type.append({"field": name, "expected": want, "seen": ",".join(sorted(kinds))})
        feature = features.get(name)
        if feature is not None and feature.kind == "categorical" and name in strings:
            fresh = sorted(strings[name] - set(feature.categories))
            if fresh:
                diff.new_categories[name] = fresh[:20]
        ref = _ref_median(feature)
        now = _median(numbers.get(name, []))
        if ref is not None and now is not None and ref[0] != 0 and now != 0:
            factor = now / ref[0]
            if abs(factor) >= unit_factor or abs(factor) <= 1 / unit_factor:
                diff.unit.append({"field": name, "factor": round(factor, 3),
                                  "median": now, "training_median": ref[0]})  # fmt: skip
    return diff


def _renames(
    missing: list[str],
    new: list[str],
    numbers: Mapping[str, list[float]],
    features: Mapping[str, FeatureProfile],
) -> list[dict[str, str]]:
    """Pair each missing field with a new field whose values sit where it used to."""
    out, taken = [], set()
    for old in missing:
        ref = _ref_median(features.get(old))
        for cand in new:
            if cand in taken:
                continue
            now = _median(numbers.get(cand, []))
            if ref is None or now is None:
                alike = ref is None and now is None and len(missing) == len(new) == 1
            else:
                alike = abs(now - ref[0]) <= ref[1] / 2
            if alike:
                out.append({"from": old, "to": cand})
                taken.add(cand)
                break
    return out
