"""Rollout operations shared by the server, the admin API and the CLI: reports, start, abort."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bastion.errors import Conflict, NotFound
from bastion.routing.rollouts.ab import arm_outcomes
from bastion.routing.rollouts.analysis import ab_analysis
from bastion.routing.rollouts.book import StatsBook, merged_arms, merged_shadows
from bastion.routing.rollouts.canary import CanaryControl, decide
from bastion.routing.rollouts.config import RolloutPlan, canary_plan
from bastion.routing.rollouts.entities import CanaryRun
from bastion.routing.rollouts.stats import ArmStats
from bastion.routing.rollouts.store import RolloutStore
from bastion.settings import DeploymentSettings

if TYPE_CHECKING:
    from bastion.registry import Registry


def run_view(run: CanaryRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "deployment": run.deployment,
        "model": run.model,
        "version": run.version,
        "stable_version": run.stable_version,
        "alias": run.alias,
        "status": run.status,
        "step": run.step_index + 1,
        "steps": list(run.plan.steps),
        "traffic": run.traffic,
        "step_s": run.plan.step_s,
        "min_requests": run.plan.min_requests,
        "slo": run.plan.to_dict()["slo"],
        "started_by": run.started_by,
        "reason": run.reason,
        "started_at": run.started_at,
        "step_started_at": run.step_started_at,
        "finished_at": run.finished_at,
    }


class RolloutOps:
    """What an operator can ask of rollouts, whether or not this process serves traffic.

    ``book`` holds this process's unflushed counters (empty in the CLI); reports add them to
    what other processes persisted, so a server answers with figures up to this instant.
    """

    def __init__(
        self,
        store: RolloutStore,
        registry: Registry,
        control: CanaryControl,
        plans: dict[str, RolloutPlan],
        deployments: list[DeploymentSettings],
        book: StatsBook,
        *,
        feedback: Callable[[], Any] = lambda: None,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.registry = registry
        self.control = control
        self.plans = plans
        self._configured = {d.name: d for d in deployments}
        self.book = book
        self._feedback = feedback
        self._now = clock

    def model_of(self, deployment: str) -> str:
        dep = self._configured.get(deployment)
        return dep.model_name if dep else deployment

    def alias_of(self, deployment: str) -> str:
        dep = self._configured.get(deployment)
        return dep.alias if dep else "production"

    def _known(self, deployment: str) -> None:
        if self._configured and deployment not in self._configured:
            known = ", ".join(sorted(self._configured))
            raise NotFound(f"no deployment named '{deployment}'; deployments: {known}")

    async def shadow_report(self, deployment: str) -> dict[str, Any]:
        self._known(deployment)
        plan = self.plans.get(deployment)
        shadow = plan.shadow if plan else None
        records = await self.store.load_stats("shadow", deployment=deployment)
        merged = merged_shadows(records, self.book, deployment)
        candidates = [
            {"model": model, "version": int(run.removeprefix("v")), **counters.summary()}
            for (_, model, run), counters in sorted(merged.items())
        ]
        return {
            "deployment": deployment,
            "configured": None
            if shadow is None
            else {"version": shadow.version, "alias": shadow.alias, "share": shadow.share},
            "candidates": candidates,
        }

    async def canary_status(self, deployment: str) -> dict[str, Any]:
        self._known(deployment)
        plan = self.plans.get(deployment)
        run = await self.store.latest(deployment)
        out: dict[str, Any] = {
            "deployment": deployment,
            "configured": plan.canary.to_dict() if plan and plan.canary else None,
            "canary": None,
        }
        if run is None:
            return out
        records = await self.store.load_stats("canary", deployment=deployment, run=run.stats_run)
        arms = merged_arms(records, self.book, "canary", deployment, run.stats_run)
        canary, stable = arms.get("canary", ArmStats()), arms.get("stable", ArmStats())
        out["canary"] = run_view(run)
        out["arms"] = {"canary": canary.summary(), "stable": stable.summary()}
        if run.running:
            decision = decide(run, canary, stable, self._now())
            out["analysis"] = {"next": decision.action, **decision.details()}
        out["events"] = await self.store.events(run.id)
        return out

    async def ab_report(self, deployment: str) -> dict[str, Any]:
        self._known(deployment)
        plan = self.plans.get(deployment)
        if plan is None or plan.ab is None:
            raise NotFound(
                f"deployment '{deployment}' has no A/B test; configure one under "
                f"rollouts.deployments (deployment: {deployment}, ab: {{arms: [...]}})"
            )
        ab = plan.ab
        run = f"ab:{ab.experiment}"
        records = await self.store.load_stats("ab", deployment=deployment, run=run)
        found = merged_arms(records, self.book, "ab", deployment, run)
        arms = {a.name: found.get(a.name, ArmStats()) for a in ab.arms}
        outcomes = await arm_outcomes(self.store, self._feedback(), deployment, ab.experiment)
        analysis = ab_analysis(arms, outcomes or {}, min_samples=ab.min_samples, alpha=ab.alpha)
        rows = []
        for arm in ab.arms:
            scores = (outcomes or {}).get(arm.name, [])
            rows.append(
                {
                    "name": arm.name,
                    "version": arm.version,
                    "alias": arm.alias,
                    "weight": arm.weight,
                    **arms[arm.name].summary(),
                    "outcomes": len(scores),
                    "outcome_mean": sum(scores) / len(scores) if scores else None,
                }
            )
        return {
            "deployment": deployment,
            "experiment": ab.experiment,
            "sticky": f"entity_field:{ab.entity_field}" if ab.entity_field else "key",
            "min_samples": ab.min_samples,
            "alpha": ab.alpha,
            "outcomes_available": outcomes is not None,
            "arms": rows,
            **analysis,
        }

    async def start_canary(
        self, deployment: str, version: int, *, actor: str, reason: str = ""
    ) -> CanaryRun:
        """Start a canary of ``version`` by hand (with the configured plan, or the defaults)."""
        self._known(deployment)
        plan = self.plans.get(deployment)
        if plan is not None and plan.ab is not None:
            raise Conflict(
                f"deployment '{deployment}' runs an A/B test, which already splits its traffic; "
                "remove its ab section before starting a canary"
            )
        model, alias = self.model_of(deployment), self.alias_of(deployment)
        stable = (await self.registry.aliases(model)).get(alias)
        if stable is None:
            raise Conflict(
                f"deployment '{deployment}' serves nothing yet (model '{model}' has no '{alias}' "
                f"alias); promote a version first: bastion models promote {model} VERSION"
            )
        return await self.control.start(
            deployment,
            model=model,
            version=version,
            stable_version=stable,
            plan=plan.canary if plan and plan.canary else canary_plan(None),
            actor=actor,
            reason=reason,
            gated_alias=alias,
        )

    async def abort_canary(self, deployment: str, *, actor: str, reason: str = "") -> CanaryRun:
        self._known(deployment)
        run = await self.store.latest(deployment)
        if run is None or not run.running:
            raise Conflict(
                f"deployment '{deployment}' has no running canary to abort; "
                f"see `bastion canary status {deployment}`"
            )
        return await self.control.abort(run, actor=actor, reason=reason)
