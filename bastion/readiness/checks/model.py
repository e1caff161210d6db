"""Model: eval sets and gates guard production aliases; the review path has been walked."""

from __future__ import annotations

from bastion.readiness.base import Check, Context, Outcome, age_days, listed

SECTION = "model"
_FINAL = ("approved", "corrected", "rejected", "overridden")


def eval_gates(ctx: Context) -> Outcome:
    production = [d for d in ctx.facts["deployments"] if d["alias"] == "production"]
    if not production:
        return Outcome("skip", "no deployment serves a production alias")
    gates = ctx.facts["gates"]
    ungated = [d["model"] for d in production if not gates.get(d["model"], {}).get("production")]
    if ungated:
        return Outcome(
            "fail",
            f"production aliases moved without gates: {listed(sorted(set(ungated)))}",
            "add evaluation.gates.MODEL.production (thresholds or no_regression on an eval "
            "set; docs/evaluation.md)",
        )
    return Outcome("pass", f"gated: {listed(sorted({d['model'] for d in production}))}")


def eval_sets(ctx: Context) -> Outcome:
    wanted = sorted(
        {
            ref.split("@", 1)[0]
            for aliases in ctx.facts["gates"].values()
            for gate in aliases.values()
            for ref in gate["sets"]
        }
    )
    if not wanted:
        return Outcome(
            "skip" if not ctx.facts["deployments"] else "fail",
            "no gate names an eval set",
            "upload one (`bastion eval sets upload`) and gate on it",
        )
    have = {s["name"] for s in ctx.once("/v1/admin/eval/sets")["data"]}
    missing = [name for name in wanted if name not in have]
    if missing:
        return Outcome(
            "fail",
            f"gates name eval sets that do not exist: {listed(missing)}",
            "upload them (`bastion eval sets upload NAME FILE`)",
        )
    return Outcome("pass", f"eval sets present: {listed(wanted)}")


def review_path(ctx: Context) -> Outcome:
    policies = ctx.facts["review_policies"]
    if not policies:
        return Outcome("skip", "no review policies configured")
    max_age = ctx.facts["readiness"]["max_review_age_days"]
    never: list[str] = []
    stale: list[str] = []
    ok: list[str] = []
    for name in policies:
        decided = []
        for status in _FINAL:
            items = ctx.api.get("/v1/review/items", status=status, deployment=name, limit=1)
            decided += [i["decided_at"] for i in items["data"] if i.get("decided_at")]
        if not decided:
            never.append(name)
            continue
        age = age_days(max(decided), ctx.now)
        (stale if age > max_age else ok).append(f"{name} ({age:.1f} d)")
    fix = (
        "send a request that the policy routes to review and decide it "
        "(`bastion review claim`, `bastion review decide`)"
    )
    if never:
        return Outcome("fail", f"no review decision ever made for: {listed(never)}", fix)
    if stale:
        return Outcome(
            "warn", f"last review decision older than {max_age:g} d: {listed(stale)}", fix
        )
    return Outcome("pass", "review decisions recent: " + listed(ok))


CHECKS = [
    Check("eval-gates", SECTION, "Production aliases have promotion gates", eval_gates),
    Check("eval-sets", SECTION, "The gates' eval sets exist", eval_sets),
    Check("review-path", SECTION, "The review path exercised end to end", review_path),
]
