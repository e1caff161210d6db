"""Settings of monitoring: the prediction log, segments, accuracy windows and drift."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from bastion.settings.core import Section

_SEGMENT_NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class SegmentSettings(Section):
    """One segment dimension of a deployment, read from an input field or a request header.

    ``field``: a key of the (object) input, dotted for nesting (``customer.country``).
    ``header``: the suffix of ``x-bastion-segment-<header>`` sent by the client.
    Numbers are bucketed by ``bins`` (edges, ascending) when given. ``values`` lists the
    values kept as they are (others become ``other``); without it the first ``max_values``
    distinct values seen are kept. A missing value is ``unknown``.
    """

    name: str = Field(pattern=_SEGMENT_NAME)
    field: str | None = Field(None, min_length=1, max_length=200)
    header: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    bins: list[float] | None = Field(None, min_length=1, max_length=50)
    values: list[str] | None = Field(None, min_length=1, max_length=200)
    max_values: int = Field(20, ge=1, le=200)

    @model_validator(mode="after")
    def _one_source(self) -> SegmentSettings:
        if (self.field is None) == (self.header is None):
            raise ValueError(f"segment {self.name!r}: set exactly one of 'field' or 'header'")
        if self.bins is not None and self.bins != sorted(set(self.bins)):
            raise ValueError(f"segment {self.name!r}: bins must be strictly ascending")
        return self


class DeploymentMonitoringSettings(Section):
    """One deployment's segments; ``drift: false`` leaves it out of drift monitoring."""

    deployment: str = Field(min_length=1)
    segments: list[SegmentSettings] = Field(default_factory=list, max_length=10)
    drift: bool = True

    @field_validator("segments")
    @classmethod
    def _unique(cls, value: list[SegmentSettings]) -> list[SegmentSettings]:
        names = [s.name for s in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"segment names must be unique; repeated: {', '.join(dupes)}")
        return value


class AccuracyWindow(Section):
    """A rolling window: a version's ``last`` N labelled predictions, or the last ``hours``."""

    last: int | None = Field(None, ge=1, le=1_000_000)
    hours: float | None = Field(None, gt=0, le=24 * 366)

    @model_validator(mode="after")
    def _one_kind(self) -> AccuracyWindow:
        if (self.last is None) == (self.hours is None):
            raise ValueError("an accuracy window sets exactly one of 'last' or 'hours'")
        return self

    @property
    def name(self) -> str:
        return f"last_{self.last}" if self.last is not None else f"{self.hours:g}h"


def _default_windows() -> list[AccuracyWindow]:
    return [AccuracyWindow(last=100), AccuracyWindow(last=1000), AccuracyWindow(hours=24)]


class PredictionLogSettings(Section):
    """The prediction log: a bounded queue in front of a batching background writer.

    Payloads (input and output) are PII-scrubbed before they are stored, on every route and
    whatever the guard policy. A tenant listed in ``clear_tenants`` opts into payloads stored
    as sent, encrypted with the app's key: the server refuses to start with ``clear_tenants``
    and no encryption key. ``inputs``: ``policy`` follows that rule; ``scrubbed`` scrubs even
    the ``clear_tenants``; ``off`` stores outputs only. ``private_tenants`` are scrubbed too.
    """

    enabled: bool = True
    queue_size: int = Field(10_000, ge=10, le=1_000_000)
    batch_size: int = Field(500, ge=1, le=10_000)
    flush_interval_s: float = Field(
        0.2, ge=0, le=10, description="the writer waits this long for more before a write"
    )
    retention_days: float = Field(30.0, gt=0, le=3650)
    feedback_retention_days: float = Field(365.0, gt=0, le=3650)
    inputs: Literal["policy", "scrubbed", "off"] = "policy"
    private_tenants: list[str] = Field(default_factory=list)
    clear_tenants: list[str] = Field(
        default_factory=list,
        description="tenants whose payloads are stored unscrubbed, encrypted (needs a key)",
    )
    feedback_wait_s: float = Field(
        0.5, ge=0, le=10, description="feedback for an unseen id waits this long for its log"
    )


class DriftConfig(Section):
    """Drift detection (docs/drift.md): when a shift counts, window sizes, memory bounds."""

    enabled: bool = True
    min_samples: int = Field(100, ge=1)
    alpha: float = Field(0.01, gt=0, lt=1)
    correction: Literal["bonferroni", "bh"] = "bonferroni"
    min_psi: float = Field(0.1, ge=0)
    min_effect: float = Field(0.15, ge=0, le=1)
    bins: int = Field(10, ge=2, le=100)
    top_k: int = Field(50, ge=1, le=50)
    reference_sample: int = Field(2000, ge=10)
    window_sample: int = Field(1000, ge=10)
    window_s: float = Field(3600.0, gt=0)
    window_rows: int = Field(0, ge=0)
    max_windows: int = Field(24, ge=1)
    max_streams: int = Field(64, ge=1)
    persist_interval_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="how often changed live windows are saved to the database (0: never; "
        "they are also saved at a graceful shutdown and resumed at start)",
    )
    text_embeddings: bool = Field(True, description="embed text inputs with the bundled model")
    baseline_rows: int = Field(2000, ge=10, description="rows a live baseline collects")


class MonitoringSettings(Section):
    """Prediction log, feedback and accuracy (per version and segment), and drift."""

    enabled: bool = True
    prediction_log: PredictionLogSettings = PredictionLogSettings()
    accuracy_windows: list[AccuracyWindow] = Field(
        default_factory=_default_windows, min_length=1, max_length=10
    )
    refresh_interval_s: float = Field(
        30.0, gt=0, le=3600, description="how often accuracy and drift gauges are recomputed"
    )
    drift: DriftConfig = DriftConfig()
    deployments: list[DeploymentMonitoringSettings] = Field(default_factory=list)

    @field_validator("deployments")
    @classmethod
    def _one_per_deployment(
        cls, value: list[DeploymentMonitoringSettings]
    ) -> list[DeploymentMonitoringSettings]:
        names = [d.deployment for d in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"one monitoring entry per deployment; repeated: {', '.join(dupes)}")
        return value

    def for_deployment(self, name: str) -> DeploymentMonitoringSettings | None:
        return next((d for d in self.deployments if d.deployment == name), None)
