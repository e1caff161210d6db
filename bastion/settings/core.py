"""Settings sections of the core: server, limits, registry, logging, deployments."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    graceful_timeout_s: float = Field(
        30.0, gt=0, description="at shutdown: how long requests in flight may still run"
    )
    drain_delay_s: float = Field(
        1.0,
        ge=0,
        description="at shutdown: readiness answers 503 this long before the listener closes",
    )
    worker_healthcheck_s: int = Field(
        60,
        ge=1,
        description="with several workers: how long a worker may not answer the supervisor's "
        "ping (while it starts, loading models) before it is killed and restarted",
    )
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None


class LimitsSettings(Section):
    """Bounds on what a client may send; anything over them is a clean 4xx."""

    max_body_bytes: int = Field(4 * 1_048_576, ge=1024)
    max_admin_body_bytes: int = Field(512 * 1_048_576, ge=1024)  # admin uploads
    max_admin_json_bytes: int = Field(1_048_576, ge=1024)  # every other admin call
    max_depth: int = Field(32, ge=2, le=256)
    max_string_length: int = Field(1_000_000, ge=1)
    max_list_length: int = Field(10_000, ge=1)
    max_batch: int = Field(256, ge=1)


class RegistrySettings(Section):
    poll_interval_s: float = Field(0.25, gt=0, le=10)
    max_loaded_versions: int = Field(
        4, ge=1, description="pinned versions kept loaded per deployment"
    )


class ArtifactSettings(Section):
    """Where model artifacts and eval sets live (docs/scaling.md#artifacts). Each replica
    keeps a local cache under ``data_dir/artifacts`` either way; the sha256 is checked on
    every load, whatever the store."""

    url: str | None = Field(
        None,
        pattern=r"^(local|database|s3://.+)$",
        description="unset: `database` when database_url is PostgreSQL (a cluster), else "
        "`local` (this data dir only); or s3://BUCKET/PREFIX?endpoint_url=URL&region=R "
        "(the s3 extra; credentials from boto3's usual chain)",
    )

    def resolved(self, database_url: str | None) -> str:
        """The store in force: the URL, or the default for this database."""
        if self.url is not None:
            return self.url
        postgres = (database_url or "").startswith(("postgres://", "postgresql"))
        return "database" if postgres else "local"


class LoggingSettings(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class BatchingSettings(Section):
    """Adaptive micro-batching of concurrent requests to one in-process model.

    ``enabled`` unset means automatic: on for models that gain from batches (embedding and
    text-classifier flavors), off for the others.
    """

    enabled: bool | None = None
    max_batch_size: int = Field(32, ge=1, le=4096)
    max_wait_ms: float = Field(0.0, ge=0, le=1000)


class RayServeSettings(Section):
    """How a ``runtime: ray-serve`` deployment's model runs on Ray Serve (docs/scaling.md)."""

    address: str | None = Field(
        None, description="a Ray cluster (ray://… or auto); unset: a local Ray in this process"
    )
    min_replicas: int = Field(1, ge=0, le=1000)
    max_replicas: int = Field(2, ge=1, le=1000)
    target_ongoing_requests: float = Field(
        2.0, gt=0, description="autoscaling: requests in flight per replica it aims for"
    )
    num_cpus: float = Field(1.0, gt=0, description="CPUs each replica reserves")
    max_ongoing_requests: int = Field(8, ge=1, description="requests one replica takes at once")


class DeploymentSettings(Section):
    """One served name. ``model`` defaults to the deployment name, ``alias`` to production."""

    name: str = Field(pattern=_NAME_PATTERN)
    model: str | None = Field(None, pattern=_NAME_PATTERN)
    alias: str = "production"
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    max_batch: int | None = Field(None, ge=1)
    batching: BatchingSettings = BatchingSettings()
    max_concurrency: int = Field(64, ge=1, description="requests running at once")
    max_queue: int = Field(1024, ge=0, description="requests waiting; beyond: 503 overloaded")
    runtime: Literal["in-process", "ray-serve"] = Field(
        "in-process",
        description="where the model runs: in this process, or as a Ray Serve deployment "
        "(the ray extra); auth, limits, guards and audit stay in the gateway either way",
    )
    ray_serve: RayServeSettings = RayServeSettings()

    @property
    def model_name(self) -> str:
        return self.model or self.name
