"""The canary state machine: which calls go to the canary, what each step decides, and the
actions (start, advance, promote, roll back, abort) with their alias moves, audit and alerts."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import structlog

from bastion.errors import BastionError, Conflict, PromotionGateFailed
from bastion.registry.aliases import alias_stack
from bastion.routing.rollouts.analysis import Check, canary_checks
from bastion.routing.rollouts.config import CanaryPlan, unit
from bastion.routing.rollouts.entities import CanaryRun
from bastion.routing.rollouts.hooks import Hooks
from bastion.routing.rollouts.stats import ArmStats
from bastion.routing.rollouts.store import RolloutStore, already_running

if TYPE_CHECKING:
    from bastion.registry import Registry

log = structlog.get_logger(__name__)

Action = Literal["wait", "advance", "promote", "rollback"]
# gate(model, version, alias, traffic): raises PromotionGateFailed when moving ``alias`` to
# ``version`` is refused; ``traffic=False`` at a canary's start (gates needing traffic wait).
GateCheck = Callable[[str, int, str, bool], Awaitable[None]]


def takes_canary(run: CanaryRun, request_id: str) -> bool:
    """Whether this request goes to the canary: a stable hash below the step's traffic."""
    return unit(f"canary:{run.id}:{request_id}") * 100.0 < run.traffic


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str
    checks: list[Check] = field(default_factory=list)
    canary: dict[str, Any] = field(default_factory=dict)
    stable: dict[str, Any] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "checks": [
                {"name": c.name, "ok": c.ok, "value": c.value, "limit": c.limit, "detail": c.detail}
                for c in self.checks
            ],
            "canary": self.canary,
            "stable": self.stable,
        }


def decide(run: CanaryRun, canary: ArmStats, stable: ArmStats, now: datetime) -> Decision:
    """One step's analysis: roll back on any breach (as soon as there is enough traffic to
    judge), advance only after the step has also lasted ``step_s``; promote after the last."""
    plan = run.plan
    step = f"step {run.step_index + 1}/{len(plan.steps)} ({run.traffic:g}%)"

    def said(action: Action, reason: str, checks: list[Check] | None = None) -> Decision:
        return Decision(action, reason, checks or [], canary.summary(), stable.summary())

    if canary.requests < plan.min_requests:
        return said("wait", f"{step}: {canary.requests}/{plan.min_requests} canary requests")
    checks = canary_checks(canary, stable, plan)
    failed = [c for c in checks if not c.ok]
    if failed:
        why = "; ".join(f"{c.name} {c.detail}" for c in failed)
        return said("rollback", f"{step} breached: {why}", checks)
    left = plan.step_s - (now - run.step_started_at).total_seconds()
    if left > 0:
        return said("wait", f"{step}: healthy; holds {left:.0f}s more", checks)
    if run.step_index >= len(plan.steps) - 1:
        return said("promote", f"{step} passed every check: promoting", checks)
    return said("advance", f"{step} passed every check", checks)


class CanaryControl:
    """Performs canary transitions: the state row first (so that every process stops or
    changes routing), then the registry's aliases, then the audit record and the alert."""

    def __init__(
        self,
        store: RolloutStore,
        registry: Registry,
        hooks: Hooks,
        *,
        gate: GateCheck | None = None,
        on_alias_change: Callable[[], Awaitable[Any]] | None = None,
        on_ended: Callable[[CanaryRun], None] | None = None,
    ) -> None:
        self._store = store
        self._registry = registry
        self._hooks = hooks
        self._gate = gate
        self._on_alias_change = on_alias_change
        self._on_ended = on_ended  # this process stops routing to it at once

    async def start(
        self,
        deployment: str,
        *,
        model: str,
        version: int,
        stable_version: int,
        plan: CanaryPlan,
        actor: str,
        reason: str = "",
        gated_alias: str | None = None,
    ) -> CanaryRun:
        """Point the canary alias at ``version`` (if not already) and record a running canary,
        in one transaction: every check comes first, and a refusal changes nothing.

        With a gate, ``gated_alias`` (the alias the canary ends by moving) must pass its
        promotion gates first, except those that need live traffic: PromotionGateFailed.
        """
        await self._registry.get_version(model, version)  # NotFound lists the versions
        if version == stable_version:
            raise Conflict(
                f"version {version} already serves deployment '{deployment}'; a canary needs "
                "a different version (register one, then start its canary)"
            )
        if await self._store.has_running(deployment):
            raise already_running(deployment)
        if self._gate is not None and gated_alias is not None:
            await self._gate(model, version, gated_alias, False)
        fields: dict[str, Any] = {
            "deployment": deployment,
            "model": model,
            "version": version,
            "stable_version": stable_version,
            "plan": plan,
            "actor": actor,
            "reason": reason,
        }
        if (await self._registry.aliases(model)).get(plan.alias) == version:
            run = await self._store.start_canary(**fields)
        else:
            rows: list[Any] = []

            async def record(session: Any) -> None:
                rows.append(await self._store.add_run(session, **fields))

            await self._registry.set_alias(
                model,
                plan.alias,
                version,
                actor=actor,
                reason=reason or "canary started",
                also=record,
            )
            run = CanaryRun.from_row(rows[0])
        log.info("canary_started", deployment=deployment, version=version, stable=stable_version)
        await self._hooks.audit(actor, "canary.start", self._target(run), {"plan": plan.to_dict()})
        return run

    @property
    def hooks(self) -> Hooks:
        return self._hooks

    @staticmethod
    def _target(run: CanaryRun) -> str:
        return f"deployment:{run.deployment}:v{run.version}"

    async def advance(self, run: CanaryRun, decision: Decision) -> CanaryRun | None:
        moved = await self._store.advance(
            run, step_index=run.step_index + 1, details=decision.details()
        )
        if moved is not None:
            log.info(
                "canary_advanced",
                deployment=run.deployment,
                version=run.version,
                traffic=moved.traffic,
            )
        return moved

    async def rollback(
        self, run: CanaryRun, decision: Decision, *, gates: list[Any] | None = None
    ) -> CanaryRun | None:
        """Automatic rollback on a breach (or a refused promotion, with the failed ``gates``):
        traffic to 0, alias back, audit, alert."""
        ended = await self._store.finish(
            run, "rolled_back", actor="rollouts", reason=decision.reason, details=decision.details()
        )
        if ended is None:
            return None
        self._ended(run)
        log.warning(
            "canary_rolled_back",
            deployment=run.deployment,
            version=run.version,
            reason=decision.reason,
        )
        await self._restore_alias(run, actor="rollouts", reason=decision.reason)
        details: dict[str, Any] = {"version": run.version, "stable_version": run.stable_version}
        details.update(decision.details())
        if gates:
            details["failed_gates"] = gates
        await self._hooks.audit("rollouts", "canary.rollback", self._target(run), details)
        await self._hooks.alert(
            "canary_rolled_back",
            severity="critical",
            deployment=run.deployment,
            summary=f"canary v{run.version} of {run.deployment} rolled back: {decision.reason}",
            details=details,
            dedupe_key=f"canary:{run.deployment}:{run.id}",
        )
        return ended

    async def abort(self, run: CanaryRun, *, actor: str, reason: str) -> CanaryRun:
        ended = await self._store.finish(
            run, "aborted", actor=actor, reason=reason or "aborted", details={}
        )
        if ended is None:
            raise Conflict(
                f"the canary of deployment '{run.deployment}' changed while aborting; "
                "look at `bastion canary status` and try again"
            )
        self._ended(run)
        log.info("canary_aborted", deployment=run.deployment, version=run.version, actor=actor)
        await self._restore_alias(run, actor=actor, reason=reason or "canary aborted")
        await self._hooks.audit(actor, "canary.abort", self._target(run), {"reason": reason})
        return ended

    async def promote(self, run: CanaryRun, decision: Decision, *, alias: str) -> CanaryRun | None:
        """The last step passed: the version takes the deployment's alias — unless its
        promotion gates (checked again, now with traffic) refuse: then it is rolled back."""
        if self._gate is not None:
            try:
                await self._gate(run.model, run.version, alias, True)
            except PromotionGateFailed as exc:
                return await self._refused(run, decision, exc)
        ended = await self._store.finish(
            run, "promoted", actor="rollouts", reason=decision.reason, details=decision.details()
        )
        if ended is None:
            return None
        self._ended(run)
        reason = f"canary passed {len(run.plan.steps)} steps"
        with contextlib.suppress(Conflict):  # already there: someone promoted it by hand
            await self._registry.promote(
                run.model, run.version, alias=alias, actor="rollouts", reason=reason
            )
        log.info("canary_promoted", deployment=run.deployment, version=run.version, alias=alias)
        await self._changed()
        await self._hooks.audit(
            "rollouts", "canary.promote", self._target(run), {"alias": alias, **decision.details()}
        )
        return ended

    async def _refused(
        self, run: CanaryRun, decision: Decision, exc: PromotionGateFailed
    ) -> CanaryRun | None:
        """Every step passed but a promotion gate refused: end it rolled back (audit, alert)."""
        log.warning("canary_promotion_refused", deployment=run.deployment, reason=exc.message)
        refused = Decision(
            "rollback",
            f"promotion gate refused: {exc.message}",
            decision.checks,
            decision.canary,
            decision.stable,
        )
        return await self.rollback(run, refused, gates=exc.details.get("failed", []))

    async def _restore_alias(self, run: CanaryRun, *, actor: str, reason: str) -> None:
        """Point the canary alias back at the stable version: a registry rollback when that is
        the version it held before, else a plain set. Left alone if someone has moved it."""
        try:
            if (await self._registry.aliases(run.model)).get(run.alias) != run.version:
                return
            history = await self._registry.alias_history(run.model, run.alias)
            stack = alias_stack((e.action, e.version) for e in history)
            if len(stack) >= 2 and stack[-2] == run.stable_version:
                await self._registry.rollback(
                    run.model, alias=run.alias, actor=actor, reason=reason
                )
            else:
                await self._registry.set_alias(
                    run.model, run.alias, run.stable_version, actor=actor, reason=reason
                )
        except BastionError as exc:
            log.error(
                "canary_alias_restore_failed",
                deployment=run.deployment,
                alias=run.alias,
                error=exc.message,
            )
            return
        await self._changed()

    def _ended(self, run: CanaryRun) -> None:
        if self._on_ended is not None:
            self._on_ended(run)

    async def _changed(self) -> None:
        if self._on_alias_change is not None:
            await self._on_alias_change()
