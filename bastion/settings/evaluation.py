"""Settings of evaluation: eval runs (batch size, which output field is scored) and the
promotion gates that moving an alias must pass, keyed by model name and alias."""

from __future__ import annotations

from pydantic import Field, model_validator

from bastion.settings.core import Section

_SET_REF = r"^[a-z0-9][a-z0-9._-]{0,62}(@v?[0-9]{1,9})?$"


class ThresholdGate(Section):
    """``metric`` of this version's latest report on ``set`` must be ≥ ``min`` / ≤ ``max``.

    ``set`` is ``NAME`` (its newest version when the gate is checked) or ``NAME@VERSION``.
    """

    set: str = Field(pattern=_SET_REF)
    metric: str = Field(min_length=1, max_length=200)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> ThresholdGate:
        if self.min is None and self.max is None:
            raise ValueError(f"threshold on {self.metric!r} needs 'min' or 'max' (or both)")
        return self


class RegressionGate(Section):
    """No metric worse than the alias's current holder by more than ``margin`` (absolute),
    overall and, with ``per_slice``, in every slice both reports have, on each of ``sets``.

    ``metrics`` None compares every metric both reports carry except latency (noisy).
    """

    sets: list[str] = Field(min_length=1)
    metrics: list[str] | None = None
    margin: float = Field(0.0, ge=0)
    per_slice: bool = True

    @model_validator(mode="after")
    def _set_refs(self) -> RegressionGate:
        import re

        bad = [s for s in self.sets if not re.match(_SET_REF, s)]
        if bad:
            raise ValueError(f"no_regression.sets: not set names (NAME or NAME@V): {bad}")
        return self


class ShadowGate(Section):
    """The version's shadow agreement with live traffic: at least ``min_rate`` over at least
    ``min_samples`` compared outputs (read from the rollouts' shadow stats)."""

    min_rate: float = Field(ge=0, le=1)
    min_samples: int = Field(100, ge=1)


class GateSettings(Section):
    """What moving one alias of one model requires; every listed gate must pass."""

    thresholds: list[ThresholdGate] = Field(default_factory=list)
    no_regression: RegressionGate | None = None
    approvals: int = Field(0, ge=0, le=20, description="distinct approver keys")
    shadow_agreement: ShadowGate | None = None


class EvaluationSettings(Section):
    """``gates``: ``{model: {alias: GateSettings}}``; an alias without an entry is ungated."""

    batch_size: int = Field(64, ge=1, le=10_000, description="rows per model call in a run")
    output_field: str | None = Field(
        None,
        description="field of a dict output that is scored; None: 'label' when present, "
        "else 'value', else the whole output",
    )
    max_set_bytes: int = Field(64 << 20, ge=1, description="largest eval set accepted")
    custom_scorer_modules: list[str] = Field(
        default_factory=list,
        description="modules (or packages) whose functions a server's eval run may call as "
        "custom scorers; the CLI runs any, as it runs the operator's own code",
    )
    gates: dict[str, dict[str, GateSettings]] = Field(default_factory=dict)

    def gate(self, model: str, alias: str) -> GateSettings | None:
        return self.gates.get(model, {}).get(alias)
