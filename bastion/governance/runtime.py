"""Governance of one running server: stores, prices, the admit stage and the usage log."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from bastion.governance.budget.base import BucketUsage
from bastion.governance.budget.prices import ModelPrice
from bastion.governance.config import Governance
from bastion.governance.stage import AdmitStage
from bastion.governance.subject import Subject
from bastion.governance.usage import UsageRecorder

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bastion.settings.governance import GovernanceSettings
    from bastion.settings.llm import LlmSettings
    from bastion.store import Database
    from bastion.store.row_writer import RowWriter


def llm_group_prices(llm: LlmSettings) -> dict[str, ModelPrice]:
    """A price per LLM group from its upstreams' prices, the dearest of the group and its
    fallbacks, so that a reservation covers whichever of them answers."""
    own = {
        g.name: (
            max((Decimal(str(u.input_price_per_1m)) for u in g.upstreams), default=Decimal(0)),
            max((Decimal(str(u.output_price_per_1m)) for u in g.upstreams), default=Decimal(0)),
        )
        for g in llm.groups
    }
    prices = {}
    for g in llm.groups:
        chain = [g.name, *g.fallbacks, *([g.context_fallback] if g.context_fallback else [])]
        known = [own[n] for n in chain if n in own]
        top_in = max(p[0] for p in known)
        top_out = max(p[1] for p in known)
        prices[g.name] = ModelPrice(top_in / 1_000_000, top_out / 1_000_000)
    return prices


@dataclass(slots=True)
class GovernanceRuntime:
    """What the composition root keeps: the shared stores, the stage and the usage log."""

    governance: Governance
    stage: AdmitStage
    recorder: UsageRecorder | None
    redis: Redis | None

    @classmethod
    def build(
        cls,
        settings: GovernanceSettings,
        llm: LlmSettings,
        db: Database,
        *,
        rows: RowWriter | None = None,
    ) -> GovernanceRuntime:
        """``rows``: the SQLite file's one writer thread, for the usage log's batches."""
        redis: Redis | None = None
        if settings.store == "redis":  # the redis client loads only for this store
            from bastion.governance.redis_lua import make_redis_client

            redis = make_redis_client(settings.redis_url)
        governance = Governance.from_config(settings.as_config(), redis=redis)
        prices = governance.prices.with_defaults(llm_group_prices(llm))
        governance = dataclasses.replace(governance, prices=prices)
        recorder = UsageRecorder(db, rows=rows) if settings.record_usage else None
        on_settled = recorder.record if recorder is not None else None
        return cls(governance, governance.stage(on_settled=on_settled), recorder, redis)

    def start(self) -> None:
        if self.recorder is not None:
            self.recorder.start()

    async def budget_usage(self, subject: Subject) -> list[BucketUsage]:
        """Spent and reserved amounts of every budget that applies to ``subject`` now
        (an empty id, e.g. no deployment, skips that scope)."""
        targets = [t for t in self.governance.budget_policy.targets(subject) if t.subject]
        if not targets:
            return []
        return await self.governance.budgets.usage(targets)

    async def aclose(self) -> None:
        if self.recorder is not None:
            await self.recorder.aclose()
        if self.redis is not None:
            await self.redis.aclose()
