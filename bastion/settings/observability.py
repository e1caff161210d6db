"""Settings of observability: request logs, the log sink, Prometheus metrics and tracing."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from bastion.settings.core import Section

LogLevel = Literal["debug", "info", "warning", "error"]


class ObservabilitySettings(Section):
    """Logs, metrics and traces.

    ``log_level`` / ``log_format`` override the older ``logging`` section when set. The log
    sink is ``stderr``, ``stdout`` or a file path (appended to, one JSON line per event).
    Tracing is on when ``tracing_enabled`` is true or ``otlp_endpoint`` is set; with no
    endpoint, spans still give trace ids to the logs and ``traceparent`` to upstreams.
    """

    log_level: LogLevel | None = Field(None, description="overrides logging.level")
    log_format: Literal["json", "console"] | None = Field(
        None, description="overrides logging.format"
    )
    log_sink: str = Field("stderr", min_length=1, description="stderr, stdout or a file path")
    request_log: bool = Field(True, description="one line per request (event request_completed)")
    metrics_enabled: bool = True
    metrics_require_key: bool = Field(
        False, description="GET /metrics needs a key with the operator (or admin) role"
    )
    multiprocess_dir: Path | None = Field(
        None, description="set by `bastion serve --workers N`: prometheus multiprocess files"
    )
    sample_interval_s: float = Field(
        1.0, gt=0, le=60, description="with several workers: how often each samples its gauges"
    )
    tracing_enabled: bool = False
    otlp_endpoint: str | None = Field(
        None, pattern=r"^https?://", description="OTLP/HTTP traces URL, e.g. .../v1/traces"
    )
    otlp_headers: dict[str, str] = Field(default_factory=dict)
    otlp_timeout_s: float = Field(10.0, gt=0, le=120)
    service_name: str = Field("bastion", min_length=1)
    sampling_ratio: float = Field(1.0, ge=0, le=1, description="share of new traces recorded")
    trace_stages: bool = Field(False, description="a span per pipeline stage (costs ~10 µs each)")

    @property
    def tracing(self) -> bool:
        return self.tracing_enabled or self.otlp_endpoint is not None

    @property
    def log_file(self) -> Path | None:
        return None if self.log_sink in ("stderr", "stdout") else Path(self.log_sink)
