"""The gateway: every configured model group, its upstream sessions, and its targets."""

from __future__ import annotations

from typing import Any

from bastion.backends.http1 import Http1Client
from bastion.backends.openai_upstream import create_session
from bastion.gateway.group import ModelGroup, NoUpstreamLeft, UpstreamSilent
from bastion.gateway.member import build_member
from bastion.gateway.target import LlmTarget
from bastion.resilience import Bulkhead, RetryBudget, RetryPolicy
from bastion.resilience.retry import NEVER_RETRY
from bastion.settings.llm import LlmSettings, ModelGroupSettings


class Gateway:
    """Built at start-up inside the event loop; ``aclose`` closes every upstream session."""

    def __init__(self, settings: LlmSettings) -> None:
        self._settings = settings
        self._sessions: list[Http1Client] = []
        self._groups: dict[str, ModelGroup] = {}
        self._targets: dict[str, LlmTarget] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    @property
    def names(self) -> list[str]:
        return sorted(self._targets)

    def target(self, name: str) -> LlmTarget:
        return self._targets[name]

    def group(self, name: str) -> ModelGroup:
        return self._groups[name]

    async def start(self) -> None:
        cfg = self._settings
        policy = RetryPolicy(
            max_attempts=cfg.retry.max_attempts,
            base_backoff_s=cfg.retry.base_backoff_s,
            max_backoff_s=cfg.retry.max_backoff_s,
            max_retry_after_s=cfg.retry.max_retry_after_s,
            never_retry=(*NEVER_RETRY, NoUpstreamLeft, UpstreamSilent),
        )
        for group_cfg in cfg.groups:
            self._groups[group_cfg.name] = self._build_group(group_cfg, policy)
        for group_cfg in cfg.groups:
            group = self._groups[group_cfg.name]
            chain = [group, *(self._groups[n] for n in group_cfg.fallbacks)]
            context = (
                self._groups[group_cfg.context_fallback] if group_cfg.context_fallback else None
            )
            self._targets[group_cfg.name] = LlmTarget(
                primary=group,
                chain=chain,
                context_fallback=context,
                bulkhead=Bulkhead(
                    group_cfg.max_concurrency, group_cfg.max_queue, name=group_cfg.name
                ),
                default_deadline_s=cfg.default_deadline_s,
            )

    def _build_group(self, cfg: ModelGroupSettings, policy: RetryPolicy) -> ModelGroup:
        members = []
        for i, upstream in enumerate(cfg.upstreams):
            session = create_session(limit=upstream.max_concurrency)
            self._sessions.append(session)
            members.append(build_member(cfg.name, i, upstream, session, self._settings.breaker))
        budget = RetryBudget(
            ratio=self._settings.retry.budget_ratio, min_per_s=self._settings.retry.budget_min_per_s
        )
        hedges = None
        if cfg.hedge_after_ms is not None:  # 1 hedge per 10 s in reserve for a quiet group
            hedges = RetryBudget(ratio=cfg.hedge_budget, min_per_s=0.1)
        return ModelGroup(cfg, members, policy, budget, hedge_budget=hedges)

    def status(self) -> list[dict[str, Any]]:
        return [self._groups[n].status() for n in sorted(self._groups)]

    async def aclose(self) -> None:
        for session in self._sessions:
            await session.close()
        self._sessions.clear()
