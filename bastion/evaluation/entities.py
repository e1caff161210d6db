"""Evaluation's values: eval set rows and versions, reports, approvals, gate failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.store.evaluation_tables import ApprovalRow, EvalReportRow, EvalSetRow


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One example: the model's input, the expected output, and its slice tags."""

    input: Any
    expected: Any
    slices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EvalSet:
    """One registered version of an eval set (its rows are loaded on demand)."""

    name: str
    version: int
    sha256: str
    format: str
    rows: int
    size: int
    slices: list[str]
    description: str
    created_by: str
    created_at: datetime
    tenant: str | None = None  # owning tenant; None: shared
    created_by_key: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def from_row(cls, row: EvalSetRow) -> EvalSet:
        return cls(
            row.name,
            row.version,
            row.sha256,
            row.format,
            row.rows,
            row.size,
            list(row.slices or []),
            row.description,
            row.created_by,
            row.created_at,
            row.tenant,
            row.created_by_key,
        )


@dataclass(frozen=True, slots=True)
class SliceResult:
    rows: int
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class EvalReport:
    """One model version scored on one eval set version, overall and per ``dim=value`` slice.

    ``gaps``: per metric, the largest difference between two slices of one dimension.
    """

    id: int
    model: str
    version: int
    set_name: str
    set_version: int
    set_sha256: str
    rows: int
    scorers: list[str]
    metrics: dict[str, float]
    slices: dict[str, Any]
    gaps: dict[str, Any]
    params: dict[str, Any]
    created_by: str
    created_at: datetime
    tenant: str | None = None  # owning tenant; None: shared

    @property
    def set_ref(self) -> str:
        return f"{self.set_name}@{self.set_version}"

    @classmethod
    def from_row(cls, row: EvalReportRow) -> EvalReport:
        return cls(
            row.id,
            row.model,
            row.version,
            row.set_name,
            row.set_version,
            row.set_sha256,
            row.rows,
            list(row.scorers or []),
            dict(row.metrics or {}),
            dict(row.slices or {}),
            dict(row.gaps or {}),
            dict(row.params or {}),
            row.created_by,
            row.created_at,
            row.tenant,
        )


@dataclass(frozen=True, slots=True)
class Approval:
    model: str
    version: int
    key_id: str
    approver: str
    comment: str
    created_at: datetime
    tenant: str | None = None  # the approver's tenant

    @classmethod
    def from_row(cls, row: ApprovalRow) -> Approval:
        return cls(
            row.model,
            row.version,
            row.key_id,
            row.approver,
            row.comment,
            row.created_at,
            row.tenant,
        )


@dataclass(frozen=True, slots=True)
class GateFailure:
    """One gate that refused a promotion: which (``threshold``, ``no_regression``,
    ``approvals``, ``shadow_agreement``), a one-line reason, and the figures behind it."""

    gate: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"gate '{self.gate}' failed: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "message": self.message, **self.details}
