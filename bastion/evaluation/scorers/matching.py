"""Matching scorers: exact match, regular expressions, JSON-schema validity."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations
from bastion.evaluation.outputs import label

_SPACES = re.compile(r"\s+")


def _normal(value: Any) -> str:
    """Strings with surrounding whitespace dropped and inner runs collapsed; others canonical."""
    if isinstance(value, str):
        return _SPACES.sub(" ", value.strip())
    return label(value)


@dataclass(frozen=True, slots=True)
class ExactMatch:
    """Share of rows whose scored value equals the expected one, whitespace-normalised
    (case matters; objects compare key by key)."""

    name: str = "exact_match"

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        same = sum(_normal(v) == _normal(e) for v, e in zip(obs.values, obs.expected, strict=True))
        return {"exact_match": same / len(obs)}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _compiled(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise InvalidRequest(f"regex: {where}: the pattern must be a string, not {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidRequest(f"regex: {where}: {pattern!r} is not a valid pattern ({exc})") from exc


@dataclass(frozen=True, slots=True)
class RegexMatch:
    """Share of rows whose scored value (as text) contains a match of the pattern: the
    configured one (``regex:PATTERN``), else each row's expected value read as a pattern."""

    pattern: str | None = None
    name: str = "regex"

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        fixed = _compiled(self.pattern, "the configured pattern") if self.pattern else None
        hits = 0
        for i, (value, expected) in enumerate(zip(obs.values, obs.expected, strict=True)):
            rx = fixed or _compiled(expected, f"row {i + 1}'s expected value")
            hits += rx.search(_text(value)) is not None
        return {"regex_match": hits / len(obs)}


@dataclass(frozen=True, slots=True)
class JsonSchemaValid:
    """Share of rows whose whole output is valid against a JSON Schema: the configured one
    (``json_schema:{...}``), else the model version's declared ``output_schema``."""

    schema: dict[str, Any] = field(default_factory=dict)
    name: str = "json_schema"

    def __post_init__(self) -> None:
        if not self.schema:
            raise InvalidRequest(
                "json_schema: no schema to check against; the model version declares no "
                'output_schema, so pass one: json_schema:{"type": "object", …}'
            )
        from jsonschema import SchemaError  # loaded with the first scorer that needs it
        from jsonschema.validators import validator_for

        try:
            validator_for(self.schema).check_schema(self.schema)
        except SchemaError as exc:
            raise InvalidRequest(f"json_schema: not a valid JSON Schema: {exc.message}") from exc

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        from jsonschema.validators import validator_for

        validator = validator_for(self.schema)(self.schema)
        valid = sum(validator.is_valid(raw) for raw in obs.raw)
        return {"json_schema_valid": valid / len(obs)}
