"""Reliability: rollback really works, LLM groups fall back, a recent load test at 2x peak."""

from __future__ import annotations

from bastion.readiness.base import Check, Context, Outcome, Refused, age_days, listed

SECTION = "reliability"


def rollback_drill(ctx: Context) -> Outcome:
    """Switch each production alias back one version and forward again, for real."""
    deployments = [d for d in ctx.facts["deployments"] if d.get("previous_version")]
    if not ctx.facts["deployments"]:
        return Outcome("skip", "no deployments are served")
    if not deployments:
        return Outcome(
            "warn",
            "no deployment's alias has an earlier version to roll back to",
            "promote a second version so that a rollback has somewhere to go "
            "(`bastion models promote NAME VERSION`)",
        )
    if not ctx.drills:
        return Outcome(
            "warn",
            "rollback drill not run (--no-drills)",
            "run `bastion check` with drills on",
            automated=False,
        )
    bad: list[str] = []
    seen: list[str] = []
    for dep in deployments:
        try:
            res = ctx.api.post(
                f"/v1/admin/models/{dep['model']}/rollback/drill", {"alias": dep["alias"]}
            )
        except Refused as exc:
            bad.append(f"{dep['name']}: {exc.message}")
            continue
        moves = (res["from_version"], res["to_version"], res["restored_version"])
        served = f"{dep['name']} " + "→".join(f"v{v}" for v in moves)
        if not (res["switched"] and res["restored"]):
            bad.append(f"{served} (switched={res['switched']}, restored={res['restored']})")
        else:
            seen.append(f"{served} in {res['elapsed_ms']:.0f} ms")
    if bad:
        return Outcome(
            "fail",
            "rollback drill failed: " + listed(bad),
            "inspect `bastion models history NAME` and `GET /v1/deployments`; fix the version "
            "that does not load (docs/runbooks/bad-model-rollout.md)",
        )
    return Outcome("pass", "rolled back and forward: " + listed(seen))


def llm_fallbacks(ctx: Context) -> Outcome:
    groups = ctx.facts["llm_groups"]
    if not groups:
        return Outcome("skip", "no LLM groups configured")
    lonely = [g["name"] for g in groups if not g["fallbacks"] and not g["static_fallback"]]
    if lonely:
        return Outcome(
            "fail",
            f"groups without a fallback: {listed(lonely)}",
            "give each group `fallbacks: [other-group]` or a `static_fallback` answer "
            "(docs/runbooks/upstream-down.md)",
        )
    return Outcome("pass", f"{len(groups)} groups, each with a fallback")


def load_test(ctx: Context) -> Outcome:
    """A passing `bastion bench` at >= 2x the declared peak, recent enough."""
    readiness = ctx.facts["readiness"]
    peaks: dict[str, float] = readiness["peak_rps"]
    max_age = readiness["max_load_test_age_days"]
    names = sorted({d["name"] for d in ctx.facts["deployments"]} | set(peaks))
    if not names:
        return Outcome("skip", "no deployments are served")
    records = ctx.once("/v1/admin/operations/records", kind="load_test", limit=200)["data"]
    missing: list[str] = []
    ok: list[str] = []
    undeclared: list[str] = []
    for name in names:
        mine = [r for r in records if r["subject"] == name and r["passed"]]
        declared = peaks.get(name)
        if declared is None:
            undeclared.append(name)
        need = 2 * declared if declared is not None else 0.0
        good = [
            r
            for r in mine
            if r["details"].get("target_rps", 0) >= need - 1e-9
            and r["details"].get("target_rps", 0) >= 2 * r["details"].get("peak_rps", 0) - 1e-9
            and age_days(r["created_at"], ctx.now) <= max_age
        ]
        if good:
            ok.append(f"{name} at {good[0]['details']['target_rps']:g} rps")
        else:
            missing.append(name)
    fix = "run `bastion bench NAME --peak RPS` (2x the peak, through the server)"
    if missing:
        return Outcome(
            "fail",
            f"no passing load test at 2x peak in {max_age:g} days for: {listed(missing)}",
            fix,
        )
    if undeclared:
        return Outcome(
            "warn",
            f"load tests pass ({listed(ok)}) but no peak is declared for {listed(undeclared)}",
            "declare operations.readiness.peak_rps for each deployment in the config",
        )
    return Outcome("pass", "load tested: " + listed(ok))


CHECKS = [
    Check("rollback-drill", SECTION, "Rollback verified by a real switch and back", rollback_drill),
    Check("llm-fallbacks", SECTION, "Every LLM group has a fallback", llm_fallbacks),
    Check("load-test", SECTION, "Recent load test at 2x the declared peak", load_test),
]
