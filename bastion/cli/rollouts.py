"""`bastion shadow report`, `bastion canary status|start|abort`, `bastion ab report`.

All through the server's rollout API (operators): a canary starts with the server's
configured plan and is audited there; an A/B report joins the server's feedback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump, table

shadow_app = typer.Typer(
    rich_markup_mode=None, help="Shadow traffic: candidates replaying live calls."
)
canary_app = typer.Typer(
    rich_markup_mode=None, help="Canaries: progressive traffic with automatic rollback."
)
ab_app = typer.Typer(
    rich_markup_mode=None, help="A/B tests: sticky arms, per-arm figures, significance."
)

JsonOption = typer.Option(False, "--json", help="print the raw report as JSON")


def _get(url: str | None, key: str | None, config: Path | None, deployment: str, what: str) -> Any:
    return AdminClient.resolve(url, key, config).get(f"{_BASE}/{deployment}/{what}")


_BASE = "/v1/admin/deployments"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


@shadow_app.command("report")
def shadow_report(
    deployment: str,
    as_json: bool = JsonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Agreement, errors and latency of each shadow candidate against the live version."""
    report = _get(url, key, config, deployment, "shadow")
    if as_json:
        dump(report)
        return
    conf = report["configured"]
    shown = "not configured" if conf is None else f"share {conf['share']:.0%}"
    console.print(f"Shadow traffic of {deployment} ({shown})")
    if not report["candidates"]:
        console.print("no shadow calls recorded yet")
    for c in report["candidates"]:
        console.print(
            f"candidate {c['model']} v{c['version']}: agreement {_pct(c['agreement'])} "
            f"({c['agreed']}/{c['compared']} outputs), errors {c['candidate_errors']} "
            f"({_pct(c['candidate_error_rate'])}), dropped {c['dropped']} of {c['sampled']}"
        )
        console.print(
            f"  latency p50/p95 ms: live {_ms(c['live_p50_ms'])} / {_ms(c['live_p95_ms'])}, "
            f"candidate {_ms(c['candidate_p50_ms'])} / {_ms(c['candidate_p95_ms'])}"
        )


def _arm_table(arms: dict[str, dict[str, Any]], outcomes: bool = False) -> Any:
    shown = table("arm", "requests", "errors", "error rate", "low confidence", "p50 ms", "p95 ms")
    if outcomes:
        shown.add_column("outcome (n)")
    for name, a in arms.items():
        cells = [
            name,
            str(a["requests"]),
            str(a["errors"]),
            _pct(a["error_rate"]),
            _pct(a["low_confidence_rate"]),
            _ms(a["latency_p50_ms"]),
            _ms(a["latency_p95_ms"]),
        ]
        if outcomes:
            mean = a["outcome_mean"]
            cells.append("–" if mean is None else f"{mean:.3g} ({a['outcomes']})")
        shown.add_row(*cells)
    return shown


@canary_app.command("status")
def canary_status(
    deployment: str,
    as_json: bool = JsonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """The current (or last) canary: status, step and traffic, per-arm figures, history."""
    report = _get(url, key, config, deployment, "canary")
    if as_json:
        dump(report)
        return
    c = report["canary"]
    if c is None:
        console.print(f"deployment {deployment} has had no canary")
        return
    console.print(
        f"canary of {deployment}: v{c['version']} against v{c['stable_version']} "
        f"— {c['status']}, step {c['step']}/{len(c['steps'])} at {c['traffic']:g}% traffic"
    )
    if c["reason"]:
        console.print(f"reason: {c['reason']}")
    console.print(_arm_table(report["arms"]))
    if "analysis" in report:
        console.print(f"next: {report['analysis']['next']} — {report['analysis']['reason']}")
    for e in report["events"]:
        at = str(e["at"]).replace("T", " ")[:19]
        console.print(f"  {at}  {e['action']:<12} {e['traffic']:g}%  {e['actor']}")


@canary_app.command("start")
def canary_start(
    deployment: str,
    version: int = typer.Argument(..., min=1, help="the version to canary"),
    reason: str = typer.Option("", help="recorded with the start"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Point the canary alias at VERSION and start its canary with the server's configured
    plan (the server drives it and audits the start under the key's name)."""
    client = AdminClient.resolve(url, key, config)
    view = client.post(f"{_BASE}/{deployment}/canary", {"version": version, "reason": reason})
    steps = ", ".join(f"{s:g}%" for s in view["steps"])
    console.print(
        f"canary of {deployment} started: v{version} against v{view['stable_version']}, "
        f"steps {steps}"
    )


@canary_app.command("abort")
def canary_abort(
    deployment: str,
    reason: str = typer.Option("", help="recorded with the abort"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Stop the running canary: its traffic goes to 0 and the canary alias points back."""
    client = AdminClient.resolve(url, key, config)
    ended = client.post(f"{_BASE}/{deployment}/canary/abort", {"reason": reason})
    console.print(f"canary of {deployment} (v{ended['version']}) aborted")


@ab_app.command("report")
def ab_report(
    deployment: str,
    as_json: bool = JsonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Per-arm figures of the A/B test, significance tests with p-values, and a verdict
    (outcomes joined from the feedback the server holds)."""
    report = _get(url, key, config, deployment, "ab")
    if as_json:
        dump(report)
        return
    console.print(
        f"A/B test {report['experiment']} of {deployment} "
        f"(sticky by {report['sticky']}, alpha {report['alpha']})"
    )
    table = _arm_table({a["name"]: a for a in report["arms"]}, outcomes=True)
    console.print(table)
    for t in report["tests"]:
        arms = " vs ".join(t["arms"])
        console.print(
            f"  {t['metric']}: {t['test']} = {t['statistic']:.3g}, p = {t['p_value']:.3g} ({arms})"
        )
    if not report["outcomes_available"]:
        console.print("  outcomes: no feedback source is available to join")
    console.print(f"verdict: {report['verdict']}")
