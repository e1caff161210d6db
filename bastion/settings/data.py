"""Settings of data contracts: per-deployment rules beyond the JSON schema, and quarantine."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from bastion.settings.core import Section

RuleKind = Literal["range", "categories", "not_null", "pattern", "compare"]


class DataRuleSettings(Section):
    """One rule on one field (``compare``: ``field`` ``op`` ``other``, another field)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,80}$")
    kind: RuleKind
    field: str = Field(min_length=1, max_length=200)
    min: float | None = None
    max: float | None = None
    allowed: list[str | int | float | bool] | None = None
    pattern: str | None = Field(None, max_length=500)
    op: Literal["<", "<=", ">", ">=", "==", "!="] | None = None
    other: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> DataRuleSettings:
        needs = {
            "range": self.min is not None or self.max is not None,
            "categories": bool(self.allowed),
            "pattern": self.pattern is not None,
            "compare": self.op is not None and self.other is not None,
            "not_null": True,
        }
        if not needs[self.kind]:
            what = {
                "range": "'min' or 'max'",
                "categories": "'allowed'",
                "pattern": "'pattern'",
                "compare": "'op' and 'other'",
            }[self.kind]
            raise ValueError(f"rule {self.name!r} ({self.kind}) needs {what}")
        return self


class DataContractSettings(Section):
    """A deployment's data contract and what happens to a row that breaks it online:
    ``reject`` (422 naming the rule) or ``quarantine`` (answered, and kept for review).
    In batch jobs a breaking row is always quarantined and never scored.

    ``profile: true`` adds rules learned from the training data's profile stored at
    registration: numeric ranges (widened by ``profile_tolerance`` of their span) and the
    categories seen in training.
    """

    deployment: str = Field(min_length=1)
    policy: Literal["reject", "quarantine"] = "reject"
    rules: list[DataRuleSettings] = Field(default_factory=list)
    profile: bool = False
    profile_tolerance: float = Field(0.1, ge=0, le=10)
    on_schema_change: Literal["warn", "block"] = Field(
        "warn", description="a batch whose input's schema changed: run it, or block it unrun"
    )


class TransformBinding(Section):
    """A deployment's preprocessing: ``function`` (``module:name``, a deterministic function
    of one raw input to its prepared features) at ``version``, run identically online, in
    batch jobs and in training-row export."""

    deployment: str = Field(min_length=1)
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    version: str = Field(min_length=1, max_length=40)


class DataSettings(Section):
    contracts: list[DataContractSettings] = Field(default_factory=list)
    transforms: list[TransformBinding] = Field(default_factory=list)
    transform_modules: list[str] = Field(
        default_factory=list, description="modules (or packages) transforms may come from"
    )
    flush_interval_s: float = Field(0.5, gt=0, le=60, description="quarantine writes, batched")
    rate_window_s: float = Field(300.0, gt=0, description="the quarantine-rate signal's window")
    watch_window: int = Field(200, ge=10, le=100_000, description="live rows a schema diff sees")
    watch_every: int = Field(100, ge=1, le=100_000, description="live rows between two diffs")
    sample_rows: int = Field(5000, ge=10, description="rows of a batch input a diff reads")
