"""Promotion gates: what moving an alias requires (``evaluation.gates.MODEL.ALIAS``), checked
against stored reports, approvals and shadow stats. Returns every failed gate, with why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bastion.errors import NotFound
from bastion.evaluation.approvals import ApprovalStore
from bastion.evaluation.base import GateSubjects, ShadowSource
from bastion.evaluation.entities import EvalReport, EvalSet, GateFailure
from bastion.evaluation.reports import ReportStore
from bastion.evaluation.scorers import is_latency, lower_is_better
from bastion.evaluation.separation import Separation
from bastion.evaluation.sets import EvalSetStore
from bastion.settings.evaluation import (
    EvaluationSettings,
    GateSettings,
    RegressionGate,
    ShadowGate,
    ThresholdGate,
)


def _run_hint(model: str, version: int, eval_set: EvalSet) -> str:
    return f"run: bastion eval run {model}@{version} --set {eval_set.ref}"


class Gates:
    def __init__(
        self,
        settings: EvaluationSettings,
        registry: GateSubjects,
        sets: EvalSetStore,
        reports: ReportStore,
        approvals: ApprovalStore,
        shadow: ShadowSource | None = None,
        *,
        separation: Separation,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._sets = sets
        self._reports = reports
        self._approvals = approvals
        self.shadow = shadow
        self.separation = separation

    def gated(self, model: str, alias: str) -> GateSettings | None:
        return self._settings.gate(model, alias)

    async def check(
        self,
        model: str,
        version: int,
        alias: str,
        *,
        traffic: bool = True,
        requester: str | None = None,
    ) -> list[GateFailure]:
        """Every failed gate of moving ``alias`` to ``version`` (empty: allowed).

        ``traffic=False`` leaves out the gates that need live traffic (shadow agreement),
        as a canary does when it starts. ``requester``: the key id asking for the move (its
        own approval never counts).
        """
        gate = self.gated(model, alias)
        if gate is None:
            return []
        scope = _Scope(model, alias, gate.approvals, await self._owner(model))
        failures: list[GateFailure] = []
        for threshold in gate.thresholds:
            failures += await self._threshold(scope, version, threshold)
        if gate.no_regression is not None:
            failures += await self._no_regression(scope, version, gate.no_regression)
        if gate.approvals:
            failures += await self._approvals_gate(scope, version, requester)
        if gate.shadow_agreement is not None and traffic:
            failures += await self._shadow_gate(model, version, gate.shadow_agreement)
        return failures

    async def _owner(self, model: str) -> str | None:
        try:
            return await self._registry.owner(model)
        except NotFound:
            return None

    async def pin_all(self) -> None:
        """Pin every configured gate's unversioned sets to their newest version now (at
        start): a set version written later needs approvals before a gate uses it."""
        for model, aliases in self._settings.gates.items():
            for alias, gate in aliases.items():
                owner = await self._owner(model)
                for ref in _set_refs(gate):
                    try:
                        await self.separation.resolve(model, alias, ref, gate.approvals, owner)
                    except NotFound:
                        continue  # no such set yet: pinned when first registered and checked

    async def _set(self, scope: _Scope, gate: str, ref: str) -> EvalSet | GateFailure:
        try:
            found = await self.separation.resolve(
                scope.model, scope.alias, ref, scope.approvals, scope.owner
            )
        except NotFound as exc:
            return GateFailure(gate, exc.message, {"set": ref})
        scope.authors.add(found.created_by_key)
        return found

    async def _report(
        self, gate: str, model: str, version: int, eval_set: EvalSet, having: Sequence[str] = ()
    ) -> EvalReport | GateFailure:
        report = await self._reports.latest(model, version, eval_set.sha256, having)
        if report is None:
            holding = f" with {', '.join(having)}" if having else ""
            return GateFailure(
                gate,
                f"v{version} has no eval report{holding} on set '{eval_set.ref}'; "
                + _run_hint(model, version, eval_set),
                {"set": eval_set.ref, "version": version, "metrics": list(having)},
            )
        return report

    async def _threshold(self, scope: _Scope, version: int, t: ThresholdGate) -> list[GateFailure]:
        model = scope.model
        eval_set = await self._set(scope, "threshold", t.set)
        if isinstance(eval_set, GateFailure):
            return [eval_set]
        holding = await self._reports.latest(model, version, eval_set.sha256, (t.metric,))
        # without one holding the metric, the newest report says what it has (or there is none)
        report = holding or await self._report("threshold", model, version, eval_set)
        if isinstance(report, GateFailure):
            return [report]
        where = f"on set '{eval_set.ref}'"
        details: dict[str, Any] = {"set": eval_set.ref, "metric": t.metric, "report": report.id}
        value = report.metrics.get(t.metric)
        if value is None:
            has = ", ".join(sorted(report.metrics)) or "none"
            message = f"report {report.id} {where} has no metric '{t.metric}' (it has: {has})"
            return [GateFailure("threshold", message, details)]
        details.update(value=value, min=t.min, max=t.max)
        if t.min is not None and value < t.min:
            message = f"{t.metric} {where} is {value:.4g}, needs ≥ {t.min:g}"
            return [GateFailure("threshold", message, details)]
        if t.max is not None and value > t.max:
            message = f"{t.metric} {where} is {value:.4g}, needs ≤ {t.max:g}"
            return [GateFailure("threshold", message, details)]
        return []

    async def _no_regression(
        self, scope: _Scope, version: int, gate: RegressionGate
    ) -> list[GateFailure]:
        model, alias = scope.model, scope.alias
        holder = (await self._registry.aliases(model)).get(alias)
        if holder is None or holder == version:
            return []  # nothing holds the alias yet: nothing to regress from
        failures: list[GateFailure] = []
        for ref in gate.sets:
            eval_set = await self._set(scope, "no_regression", ref)
            if isinstance(eval_set, GateFailure):
                failures.append(eval_set)
                continue
            reports = []
            for v in (version, holder):
                found = await self._report(
                    "no_regression", model, v, eval_set, tuple(gate.metrics or ())
                )
                if isinstance(found, GateFailure):
                    failures.append(found)
                else:
                    reports.append(found)
            if len(reports) == 2:
                failures += _compare(reports[0], reports[1], alias, gate)
        return failures

    async def _approvals_gate(
        self, scope: _Scope, version: int, requester: str | None
    ) -> list[GateFailure]:
        model, needed = scope.model, scope.approvals
        try:
            registrant = (await self._registry.get_version(model, version)).created_by_key
        except NotFound:
            registrant = None
        barred = {requester, registrant, *scope.authors}
        counted = await self.separation.count(model, version, scope.owner, barred)
        if len(counted.keys) >= needed:
            return []
        who = ", ".join(counted.approvers) or "nobody yet"
        message = (
            f"{len(counted.keys)} of {needed} approvals by approver keys (approved by: {who}); "
            f"approve with: bastion models approve {model} {version}"
        )
        if counted.ignored:
            message += f"; not counted: {', '.join(counted.ignored)}"
        details = {"approvals": len(counted.keys), "needed": needed}
        return [GateFailure("approvals", message, details)]

    async def _shadow_gate(self, model: str, version: int, gate: ShadowGate) -> list[GateFailure]:
        if self.shadow is None:
            return [GateFailure("shadow_agreement", "shadow stats are not available here")]
        rate, samples = await self.shadow(model, version)
        details = {"agreement": rate, "samples": samples, **gate.model_dump()}
        if samples < gate.min_samples or rate is None:
            message = (
                f"v{version} has {samples} shadow comparisons with live traffic, needs "
                f"≥ {gate.min_samples}; mirror traffic to it (rollouts.deployments[].shadow)"
            )
            return [GateFailure("shadow_agreement", message, details)]
        if rate < gate.min_rate:
            message = (
                f"v{version} agreed with live traffic on {rate:.4g} of {samples} shadow "
                f"comparisons, needs ≥ {gate.min_rate:g}"
            )
            return [GateFailure("shadow_agreement", message, details)]
        return []


class _Scope:
    """The gate being checked: whose model, which alias, how many approvals, its owner."""

    __slots__ = ("alias", "approvals", "authors", "model", "owner")

    def __init__(self, model: str, alias: str, approvals: int, owner: str | None) -> None:
        self.model, self.alias, self.approvals, self.owner = model, alias, approvals, owner
        self.authors: set[str | None] = set()  # keys that wrote the set versions used


def _set_refs(gate: GateSettings) -> list[str]:
    refs = [t.set for t in gate.thresholds]
    if gate.no_regression is not None:
        refs += list(gate.no_regression.sets)
    return refs


def _worse_by(metric: str, candidate: float, holder: float) -> float:
    return candidate - holder if lower_is_better(metric) else holder - candidate


def _compare(
    candidate: EvalReport, holder: EvalReport, alias: str, gate: RegressionGate
) -> list[GateFailure]:
    """Overall, then per slice both reports have: every metric worse beyond the margin."""
    scopes: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("", candidate.metrics, holder.metrics)
    ]
    if gate.per_slice:
        for key in sorted(set(candidate.slices) & set(holder.slices)):
            scopes.append(
                (
                    f" in slice {key}",
                    candidate.slices[key].get("metrics", {}),
                    holder.slices[key].get("metrics", {}),
                )
            )
    failures = []
    for where, new, old in scopes:
        names = gate.metrics or sorted(m for m in new if m in old and not is_latency(m))
        if not names and not where:
            message = (
                f"the reports of v{candidate.version} and v{holder.version} on set "
                f"'{candidate.set_ref}' share no metric to compare; run both with the same "
                "scorers (or name the metrics in no_regression.metrics)"
            )
            return [GateFailure("no_regression", message, {"set": candidate.set_ref})]
        for metric in names:
            if metric not in new or metric not in old:
                if where:
                    continue  # a slice may lack a per-class metric; overall it must exist
                message = (
                    f"metric '{metric}' is missing from the report of "
                    f"v{candidate.version if metric not in new else holder.version} "
                    f"on set '{candidate.set_ref}'"
                )
                failures.append(GateFailure("no_regression", message, {"metric": metric}))
                continue
            worse = _worse_by(metric, float(new[metric]), float(old[metric]))
            if worse > gate.margin:
                message = (
                    f"{metric} on set '{candidate.set_ref}'{where} is {new[metric]:.4g} for "
                    f"v{candidate.version}, {old[metric]:.4g} for v{holder.version} (current "
                    f"'{alias}'): worse by {worse:.4g}, margin {gate.margin:g}"
                )
                failures.append(
                    GateFailure(
                        "no_regression",
                        message,
                        {
                            "set": candidate.set_ref,
                            "metric": metric,
                            "slice": where.removeprefix(" in slice ") or None,
                            "candidate": new[metric],
                            "current": old[metric],
                            "current_version": holder.version,
                            "margin": gate.margin,
                        },
                    )
                )
    return failures
