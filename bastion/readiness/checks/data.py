"""Data: every served deployment has a drift reference to compare live traffic with."""

from __future__ import annotations

from bastion.readiness.base import Check, Context, Outcome, Refused, listed

SECTION = "data"


def drift_references(ctx: Context) -> Outcome:
    deployments = ctx.facts["deployments"]
    if not deployments:
        return Outcome("skip", "no deployments are served")
    if not ctx.facts["monitoring"]["enabled"]:
        return Outcome(
            "fail", "monitoring is off: no drift is measured", "set monitoring.enabled: true"
        )
    missing: list[str] = []
    found: list[str] = []
    for dep in deployments:
        try:
            report = ctx.api.get(f"/v1/admin/deployments/{dep['name']}/drift")
        except Refused as exc:
            missing.append(f"{dep['name']} ({exc.message})")
            continue
        (found if report.get("reference") else missing).append(dep["name"])
    if missing:
        return Outcome(
            "fail",
            f"no drift reference for: {listed(missing)}",
            "`bastion drift baseline NAME` (from logged traffic) or register the version with "
            "its training data (docs/drift.md)",
        )
    return Outcome("pass", f"drift references for {listed(found)}")


CHECKS = [Check("drift-references", SECTION, "Drift references in place", drift_references)]
