"""Settings of the LLM gateway: model groups of OpenAI-compatible upstreams, and resilience."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator

from bastion.settings.core import _NAME_PATTERN, Section


class TimeoutSettings(Section):
    """Seconds: to connect, to a stream's first token, between its chunks, to a whole
    non-streamed answer, and for the whole call.

    The stream defaults are set for a person waiting (docs/llm-streams.md): an upstream that
    has sent nothing for 10 s is abandoned while a fallback can still answer in time.
    """

    connect: float = Field(2.0, gt=0)
    first_token: float = Field(10.0, gt=0, description="a stream's first chunk")
    idle: float = Field(10.0, gt=0, description="the longest gap between a stream's chunks")
    answer: float = Field(60.0, gt=0, description="a whole non-streamed answer")
    total: float = Field(600.0, gt=0)


class UpstreamSettings(Section):
    """One deployment of a model behind an OpenAI-compatible base URL.

    The API key comes from an environment variable (``api_key_env``) or a file
    (``api_key_file``); it is never logged. ``model`` is the name the upstream knows.
    """

    name: str | None = None
    base_url: str = Field(pattern=r"^https?://")
    model: str
    api_key_env: str | None = None
    api_key_file: Path | None = None
    api_key: SecretStr | None = Field(None, description="discouraged: prefer api_key_env")
    weight: float = Field(1.0, gt=0)
    priority: int = Field(0, ge=0, description="lower is preferred; higher tiers only when needed")
    input_price_per_1m: float = Field(0.0, ge=0, description="USD per million prompt tokens")
    output_price_per_1m: float = Field(0.0, ge=0, description="USD per million completion tokens")
    max_concurrency: int = Field(64, ge=1)
    max_queue: int = Field(256, ge=0)
    timeouts: TimeoutSettings = TimeoutSettings()
    continuation: Literal["prefill", "restart", "none"] = Field(
        "restart",
        description="how this upstream may finish a stream another one broke off: prefill "
        "(it continues a trailing assistant message), restart (a fresh answer, forwarded "
        "past the delivered text only if it begins with it) or none",
    )
    prefill_body: dict[str, Any] = Field(
        default_factory=dict,
        description="extra body fields sent with a prefill, e.g. vLLM's "
        "{continue_final_message: true, add_generation_prompt: false}",
    )


class CacheSettings(Section):
    """Exact-match response cache; ``semantic_threshold`` adds a similarity cache."""

    mode: Literal["off", "deterministic", "always"] = "deterministic"
    ttl_s: float = Field(300.0, gt=0)
    max_entries: int = Field(10_000, ge=1)
    semantic_threshold: float | None = Field(None, gt=0, le=1)


class ModelGroupSettings(Section):
    """A public model name served by one or more upstreams, with its fallback chain."""

    name: str = Field(pattern=_NAME_PATTERN)
    upstreams: list[UpstreamSettings] = Field(min_length=1)
    strategy: Literal["least-busy", "weighted"] = "least-busy"
    fallbacks: list[str] = Field(default_factory=list, description="other groups, in order")
    context_fallback: str | None = Field(None, description="group for context-length errors")
    static_fallback: str | None = Field(None, description="last-resort answer text")
    cache: CacheSettings = CacheSettings()
    max_concurrency: int = Field(256, ge=1)
    max_queue: int = Field(512, ge=0)
    hedge_after_ms: float | Literal["adaptive"] | None = Field(
        None,
        description="streams: with no first token by then, also ask the next target and keep "
        "whichever answers first; adaptive: hedge_p95_multiple x the observed first-token p95",
    )
    hedge_p95_multiple: float = Field(1.5, gt=0)
    hedge_budget: float = Field(
        0.05, ge=0, le=1, description="hedges per streamed request, at most (plus 1 per 10 s)"
    )

    @model_validator(mode="after")
    def _hedge_positive(self) -> ModelGroupSettings:
        if isinstance(self.hedge_after_ms, float | int) and self.hedge_after_ms <= 0:
            raise ValueError(f"group '{self.name}': hedge_after_ms must be > 0 or 'adaptive'")
        return self


class RetrySettings(Section):
    max_attempts: int = Field(3, ge=1, le=10)
    base_backoff_s: float = Field(0.05, ge=0)
    max_backoff_s: float = Field(2.0, ge=0)
    max_retry_after_s: float = Field(10.0, ge=0)
    budget_ratio: float = Field(0.2, ge=0, le=1, description="retries per request, at most")
    budget_min_per_s: float = Field(10.0, ge=0)


class BreakerSettings(Section):
    failure_rate: float = Field(0.5, gt=0, le=1)
    min_calls: int = Field(5, ge=1)
    window_calls: int = Field(20, ge=1)
    open_s: float = Field(5.0, gt=0)
    half_open_probes: int = Field(1, ge=1)


class LlmSettings(Section):
    groups: list[ModelGroupSettings] = Field(default_factory=list)
    retry: RetrySettings = RetrySettings()
    breaker: BreakerSettings = BreakerSettings()
    default_deadline_s: float = Field(600.0, gt=0)
    cache_backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"

    @model_validator(mode="after")
    def _references_exist(self) -> LlmSettings:
        names = [g.name for g in self.groups]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"model group names must be unique; repeated: {', '.join(dupes)}")
        for group in self.groups:
            refs = [*group.fallbacks, *([group.context_fallback] if group.context_fallback else [])]
            missing = [r for r in refs if r not in names]
            if missing:
                raise ValueError(
                    f"group '{group.name}' falls back to unknown groups: {', '.join(missing)}"
                )
            if group.name in group.fallbacks:
                raise ValueError(f"group '{group.name}' lists itself as a fallback")
        return self
