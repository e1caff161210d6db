"""One upstream deployment inside a model group: client, breaker, bulkhead, prices."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from bastion.backends.http1 import Http1Client
from bastion.backends.openai_upstream import OpenAIUpstream, UpstreamTimeouts
from bastion.errors import ConfigError
from bastion.resilience import Bulkhead, CircuitBreaker
from bastion.settings.llm import BreakerSettings, UpstreamSettings


def read_api_key(cfg: UpstreamSettings, group: str) -> str:
    """The key from the environment or a secrets file; never logged, never in errors."""
    if cfg.api_key_env:
        value = os.environ.get(cfg.api_key_env)
        if value is None:
            raise ConfigError(
                f"group '{group}': environment variable {cfg.api_key_env} (api_key_env) is not set"
            )
        return value.strip()
    if cfg.api_key_file:
        try:
            return cfg.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"group '{group}': cannot read api_key_file {cfg.api_key_file}: {exc.strerror}"
            ) from exc
    return cfg.api_key.get_secret_value() if cfg.api_key else ""


@dataclass(slots=True)
class Member:
    """An upstream as the balancer sees it."""

    name: str
    settings: UpstreamSettings
    client: OpenAIUpstream
    breaker: CircuitBreaker
    bulkhead: Bulkhead

    @property
    def in_flight(self) -> int:
        return self.bulkhead.in_flight

    def cost(self, usage: dict[str, Any] | None) -> float:
        if not usage:
            return 0.0
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        s = self.settings
        return (prompt * s.input_price_per_1m + completion * s.output_price_per_1m) / 1_000_000

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.settings.model,
            "weight": self.settings.weight,
            "priority": self.settings.priority,
            "in_flight": self.bulkhead.in_flight,
            "waiting": self.bulkhead.waiting,
            "breaker": self.breaker.snapshot().as_dict(),
        }


def build_member(
    group: str,
    index: int,
    cfg: UpstreamSettings,
    session: Http1Client,
    breaker: BreakerSettings,
) -> Member:
    name = cfg.name or f"{group}/{index}"
    t = cfg.timeouts
    try:
        client = OpenAIUpstream(
            cfg.base_url,
            read_api_key(cfg, group),
            session=session,
            timeouts=UpstreamTimeouts(
                connect=t.connect,
                first_token=t.first_token,
                idle=t.idle,
                total=t.total,
                answer=t.answer,
            ),
            model=cfg.model,
            name=name,
        )
    except ValueError as exc:  # a base_url the HTTP client cannot call
        raise ConfigError(f"group '{group}', upstream {name}: {exc}") from exc
    return Member(
        name=name,
        settings=cfg,
        client=client,
        breaker=CircuitBreaker(
            name,
            failure_rate_threshold=breaker.failure_rate,
            min_calls=breaker.min_calls,
            window_calls=breaker.window_calls,
            open_s=breaker.open_s,
            half_open_probes=breaker.half_open_probes,
        ),
        bulkhead=Bulkhead(cfg.max_concurrency, cfg.max_queue, name=name),
    )
