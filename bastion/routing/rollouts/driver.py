"""The canary driver: starts canaries whose alias moved and takes each running one a step
(wait, advance, promote or roll back). Only the process holding the lease runs it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

import structlog

from bastion.errors import Conflict, PromotionGateFailed
from bastion.routing.rollouts.book import merged_arms
from bastion.routing.rollouts.canary import decide
from bastion.routing.rollouts.config import RolloutPlan
from bastion.routing.rollouts.entities import CanaryRun
from bastion.routing.rollouts.operations import RolloutOps
from bastion.routing.rollouts.stats import ArmStats

Aliases = dict[tuple[str, str], int]
log = structlog.get_logger(__name__)


class CanaryDriver:
    def __init__(
        self, ops: RolloutOps, plans: dict[str, RolloutPlan], clock: Callable[[], datetime]
    ) -> None:
        self._ops = ops
        self._plans = plans
        self._now = clock

    async def auto_start(self, running: dict[str, CanaryRun], aliases: Aliases) -> None:
        """Start a canary wherever the canary alias points at another version than the
        deployment's alias (adding it to ``running``); a pair tried before is not retried."""
        for name, plan in self._plans.items():
            canary = plan.canary
            if canary is None or not canary.auto_start or name in running:
                continue
            model = self._ops.model_of(name)
            version = aliases.get((model, canary.alias))
            stable = aliases.get((model, self._ops.alias_of(name)))
            if version is None or stable is None or version == stable:
                continue
            last = await self._ops.store.latest(name)
            if last and (last.version, last.stable_version) == (version, stable):
                continue  # this pair was tried already; move the alias again to retry
            try:
                running[name] = await self._ops.control.start(
                    name,
                    model=model,
                    version=version,
                    stable_version=stable,
                    plan=canary,
                    actor="rollouts",
                    reason=f"the {canary.alias} alias moved to v{version}",
                    gated_alias=self._ops.alias_of(name),
                )
            except Conflict:
                pass  # another start won the race
            except PromotionGateFailed as exc:  # tried again each tick: starts once gates pass
                await self._refused(name, version, exc)

    async def _refused(self, deployment: str, version: int, exc: PromotionGateFailed) -> None:
        """Tell once (the alert is deduplicated) that a canary waits for its gates."""
        log.debug("canary_start_refused", deployment=deployment, version=version)
        await self._ops.control.hooks.alert(
            "canary_start_refused",
            severity="warning",
            deployment=deployment,
            summary=f"canary v{version} of {deployment} not started: {exc.message}",
            details=exc.details,
            dedupe_key=f"canary-gates:{deployment}:v{version}",
        )

    async def step(self, run: CanaryRun, aliases: Aliases) -> CanaryRun | None:
        """Judge one running canary; its new state while it still runs, None once it ended."""
        control = self._ops.control
        moved = aliases.get((run.model, run.alias))
        if moved is not None and moved != run.version:
            with contextlib.suppress(Conflict):
                await control.abort(
                    run, actor="rollouts", reason=f"the {run.alias} alias moved to v{moved}"
                )
            return None
        key = run.stats_run
        records = await self._ops.store.load_stats("canary", deployment=run.deployment, run=key)
        arms = merged_arms(records, self._ops.book, "canary", run.deployment, key)
        canary, stable = arms.get("canary", ArmStats()), arms.get("stable", ArmStats())
        decision = decide(run, canary, stable, self._now())
        if decision.action == "wait":
            return run
        if decision.action == "advance":
            return await control.advance(run, decision)
        if decision.action == "rollback":
            await control.rollback(run, decision)
        else:
            await control.promote(run, decision, alias=self._ops.alias_of(run.deployment))
        return None
