"""Settings of operations: the capacity model behind autoscaling, and what `bastion check`
holds a deployment to (declared peaks, the SLO, how recent a load test and a restore drill)."""

from __future__ import annotations

from pydantic import Field

from bastion.settings.core import Section


class CapacitySettings(Section):
    """How much one worker serves well, and the saturation an autoscaler aims for.

    ``worker_concurrency``: requests in flight at which one worker is full (saturation 1.0).
    The recommended replica count (``GET /v1/admin/capacity``, docs/scaling.md) keeps the
    saturation near ``target_saturation`` and the p95 time in queue under ``max_queue_p95_s``.
    """

    worker_concurrency: int = Field(64, ge=1, le=100_000)
    target_saturation: float = Field(0.6, gt=0, le=1)
    max_queue_p95_s: float = Field(0.1, gt=0, le=60)
    min_replicas: int = Field(1, ge=1, le=10_000)
    max_replicas: int = Field(20, ge=1, le=10_000)


class ReadinessSettings(Section):
    """What `bastion check` verifies against.

    ``peak_rps`` declares each deployment's expected peak (requests per second); the load
    test it looks for ran at ≥ 2x that peak within ``max_load_test_age_days``.
    """

    peak_rps: dict[str, float] = Field(default_factory=dict)
    slo_p95_ms: float = Field(500.0, gt=0, description="latency SLO a load test must meet")
    slo_error_rate: float = Field(0.01, ge=0, le=1, description="share of failed requests")
    max_load_test_age_days: float = Field(30.0, gt=0)
    max_restore_age_days: float = Field(90.0, gt=0)
    max_review_age_days: float = Field(30.0, gt=0)


class OperationsSettings(Section):
    capacity: CapacitySettings = CapacitySettings()
    readiness: ReadinessSettings = ReadinessSettings()
