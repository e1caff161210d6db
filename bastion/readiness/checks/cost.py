"""Cost: budgets set, and alerts that fire before a budget runs out or on a cost anomaly."""

from __future__ import annotations

from bastion.readiness.base import Check, Context, Outcome, listed

SECTION = "cost"


def budgets(ctx: Context) -> Outcome:
    rules = ctx.facts["budgets"]
    if not rules:
        if not ctx.facts["llm_groups"]:
            return Outcome("skip", "no LLM groups: nothing is priced per token")
        return Outcome(
            "fail",
            "no budgets: spend on the LLM groups is unbounded",
            "add governance.budgets.rules (per tenant or key, per day or month; docs/limits.md)",
        )
    shown = [f"{r['scope']}/{r['window']}" for r in rules]
    return Outcome("pass", f"{len(rules)} budgets: {listed(shown)}")


def budget_alerts(ctx: Context) -> Outcome:
    kinds = {r["kind"]: r["name"] for r in ctx.facts["alerts"]["rules"]}
    if not ctx.facts["budgets"] and not ctx.facts["llm_groups"]:
        return Outcome("skip", "no budgets and no LLM groups")
    have = [kinds[k] for k in ("budget", "cost_anomaly") if k in kinds]
    if "budget" not in kinds:
        return Outcome(
            "fail",
            "no alert rule of kind budget: a budget runs out without warning",
            "add an alert rule {kind: budget, threshold: 0.8}"
            + ("" if "cost_anomaly" in kinds else " and one of kind cost_anomaly"),
        )
    if "cost_anomaly" not in kinds:
        return Outcome(
            "warn",
            f"budget alert {kinds['budget']}, but no cost_anomaly rule",
            "add an alert rule {kind: cost_anomaly, threshold: 3}",
        )
    return Outcome("pass", f"cost alerts: {listed(have)}")


CHECKS = [
    Check("budgets", SECTION, "Budgets set", budgets),
    Check("budget-alerts", SECTION, "Budget and cost-anomaly alerts", budget_alerts),
]
