"""Registry entities: the frozen values the Registry hands out, and the rules their fields obey."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bastion.errors import InvalidRequest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bastion.store.tables import AliasEventRow, ModelVersionRow


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version of a model; ``aliases`` are those pointing at it now."""

    name: str
    version: int
    flavor: str
    artifact_sha256: str | None
    artifact_name: str | None
    artifact_size: int
    signature: dict[str, Any]
    metrics: dict[str, float]
    params: dict[str, Any]
    training_data_hash: str | None
    description: str
    created_by: str
    created_at: datetime
    aliases: tuple[str, ...] = ()
    created_by_key: str | None = None  # the registering key's id (separation of duties)

    @classmethod
    def from_row(cls, row: ModelVersionRow, aliases: Iterable[str] = ()) -> ModelVersion:
        return cls(
            name=row.name,
            version=row.version,
            flavor=row.flavor,
            artifact_sha256=row.artifact_sha256,
            artifact_name=row.artifact_name,
            artifact_size=row.artifact_size,
            signature=dict(row.signature or {}),
            metrics=dict(row.metrics or {}),
            params=dict(row.params or {}),
            training_data_hash=row.training_data_hash,
            description=row.description,
            created_by=row.created_by,
            created_at=row.created_at,
            aliases=tuple(sorted(aliases)),
            created_by_key=row.created_by_key,
        )


def with_aliases(rows: Iterable[ModelVersionRow], aliases: dict[str, int]) -> list[ModelVersion]:
    """Entities for one model's version rows, each carrying the aliases (alias -> version)
    that point at it."""
    by_version: dict[int, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(version, []).append(alias)
    return [ModelVersion.from_row(row, by_version.get(row.version, ())) for row in rows]


def group_aliases(everything: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """``{(model, alias): version}`` regrouped as ``{model: {alias: version}}``."""
    by_model: dict[str, dict[str, int]] = {}
    for (model, alias), version in sorted(everything.items()):
        by_model.setdefault(model, {})[alias] = version
    return by_model


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """A model at a glance: its newest version and where its aliases point."""

    name: str
    description: str
    latest_version: int | None
    aliases: dict[str, int]
    created_at: datetime
    tenant: str | None = None  # the owning tenant; None: shared by every tenant


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """One alias change. ``version`` is None when the alias was removed."""

    id: int
    name: str
    alias: str
    version: int | None
    previous_version: int | None
    action: str
    actor: str
    reason: str
    at: datetime

    @classmethod
    def from_row(cls, row: AliasEventRow) -> AliasEvent:
        return cls(
            id=row.id,
            name=row.name,
            alias=row.alias,
            version=row.version,
            previous_version=row.previous_version,
            action=row.action,
            actor=row.actor,
            reason=row.reason,
            at=row.at,
        )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Whether one version's stored artifact still has the sha256 recorded at registration."""

    name: str
    version: int
    ok: bool
    expected: str | None
    actual: str | None
    message: str
    stores: dict[str, str] = field(default_factory=dict)  # store → what it holds


MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
MAX_VERSION = 2**31 - 1  # version columns are 32-bit integers


def bounded(field: str, value: str | None, limit: int) -> str | None:
    """``value`` unchanged, or InvalidRequest if it is longer than the column holding it."""
    if value is not None and len(value) > limit:
        raise InvalidRequest(
            f"{field} is {len(value)} characters long; at most {limit} are allowed",
            details={"field": field},
        )
    return value


def validate_name(name: str) -> None:
    if not MODEL_NAME.match(name):
        raise InvalidRequest(
            f"invalid model name {name!r}: use 1-63 characters, lowercase letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (e.g. fraud-detector)",
            details={"field": "name"},
        )


def json_mapping(field: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    """A plain dict copy of ``value``, refused unless it is JSON (no NaN or Infinity)."""
    data = dict(value or {})
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(
            f"{field} must be a JSON object of plain values (no NaN/Infinity): {exc}",
            details={"field": field},
        ) from exc
    return data


def metrics_mapping(value: Mapping[str, Any] | None) -> dict[str, float]:
    data = dict(value or {})
    for key, number in data.items():
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidRequest(
                f"metric {key!r} must be a number, got {number!r}", details={"field": "metrics"}
            )
        if not math.isfinite(number):
            raise InvalidRequest(
                f"metric {key!r} must be finite, got {number!r}", details={"field": "metrics"}
            )
    return data


def check_pickle(artifact_name: str | None, params: Mapping[str, Any]) -> None:
    """Refuse pickle artifacts unless ``params["trust_pickle"] is True``."""
    if not artifact_name or not artifact_name.lower().endswith(PICKLE_SUFFIXES):
        return
    if params.get("trust_pickle") is not True:
        raise InvalidRequest(
            f"artifact {artifact_name!r} is a pickle, and loading a pickle runs arbitrary code. "
            "Export the model to ONNX or skops instead, or, if you trust where this file came "
            'from, register it with --trust-pickle (params {"trust_pickle": true})',
            details={"field": "artifact"},
        )
