"""`bastion shadow report`, `bastion canary status|start|abort`, `bastion ab report`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from bastion.cli.common import ConfigOption, console, dump, opened_db, run, settings_from
from bastion.settings import Settings

if TYPE_CHECKING:
    from bastion.routing.rollouts import RolloutOps

# The rollout machinery (models, scipy) is imported inside the commands that use it, so that
# it costs nothing to every other `bastion` command.

shadow_app = typer.Typer(help="Shadow traffic: candidates replaying live calls.")
canary_app = typer.Typer(help="Canaries: progressive traffic with automatic rollback.")
ab_app = typer.Typer(help="A/B tests: sticky arms, per-arm figures, significance.")

JsonOption = typer.Option(False, "--json", help="print the raw report as JSON")


@contextlib.asynccontextmanager
async def _opened(settings: Settings) -> AsyncIterator[RolloutOps]:
    from bastion.cli.evaluation import build_evaluation
    from bastion.registry import ArtifactStore, Registry
    from bastion.routing.rollouts import RolloutOps
    from bastion.routing.rollouts.book import StatsBook
    from bastion.routing.rollouts.canary import CanaryControl
    from bastion.routing.rollouts.config import plans_from
    from bastion.routing.rollouts.hooks import Hooks
    from bastion.routing.rollouts.store import RolloutStore
    from bastion.store.tables import utcnow

    async with opened_db(settings) as db:
        registry = Registry(db, ArtifactStore(settings.artifacts_dir))
        store = RolloutStore(db)
        gate = build_evaluation(settings, db, registry).guard.canary_gate  # a canary's gates
        yield RolloutOps(
            store,
            registry,
            CanaryControl(store, registry, Hooks(), gate=gate),
            plans_from(settings.rollouts),
            settings.deployments,
            StatsBook("cli"),
            clock=utcnow,
        )


def _with_ops(config: Path | None, action: Callable[[RolloutOps], Awaitable[Any]]) -> Any:
    settings = settings_from(config)

    async def go() -> Any:
        async with _opened(settings) as ops:
            return await action(ops)

    return run(go())


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


@shadow_app.command("report")
def shadow_report(
    deployment: str, config: Path | None = ConfigOption, as_json: bool = JsonOption
) -> None:
    """Agreement, errors and latency of each shadow candidate against the live version."""
    report = _with_ops(config, lambda ops: ops.shadow_report(deployment))
    if as_json:
        dump(report)
        return
    conf = report["configured"]
    shown = "not configured" if conf is None else f"share {conf['share']:.0%}"
    console.print(f"Shadow traffic of [bold]{deployment}[/bold] ({shown})")
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


def _arm_table(arms: dict[str, dict[str, Any]], outcomes: bool = False) -> Table:
    table = Table("arm", "requests", "errors", "error rate", "low confidence", "p50 ms", "p95 ms")
    if outcomes:
        table.add_column("outcome (n)")
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
        table.add_row(*cells)
    return table


@canary_app.command("status")
def canary_status(
    deployment: str, config: Path | None = ConfigOption, as_json: bool = JsonOption
) -> None:
    """The current (or last) canary: status, step and traffic, per-arm figures, history."""
    report = _with_ops(config, lambda ops: ops.canary_status(deployment))
    if as_json:
        dump(report)
        return
    c = report["canary"]
    if c is None:
        console.print(f"deployment {deployment} has had no canary")
        return
    console.print(
        f"canary of [bold]{deployment}[/bold]: v{c['version']} against v{c['stable_version']} "
        f"— {c['status']}, step {c['step']}/{len(c['steps'])} at {c['traffic']:g}% traffic"
    )
    if c["reason"]:
        console.print(f"reason: {c['reason']}")
    console.print(_arm_table(report["arms"]))
    if "analysis" in report:
        console.print(f"next: {report['analysis']['next']} — {report['analysis']['reason']}")
    for e in report["events"]:
        console.print(f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.action:<12} {e.traffic:g}%  {e.actor}")


@canary_app.command("start")
def canary_start(
    deployment: str,
    version: int = typer.Argument(..., min=1, help="the version to canary"),
    reason: str = typer.Option("", help="recorded with the start"),
    actor: str = typer.Option("cli", help="recorded as who started it"),
    config: Path | None = ConfigOption,
) -> None:
    """Point the canary alias at VERSION and start its canary (a running server drives it)."""
    started = _with_ops(
        config, lambda ops: ops.start_canary(deployment, version, actor=actor, reason=reason)
    )
    from bastion.routing.rollouts.operations import run_view

    view = run_view(started)
    steps = ", ".join(f"{s:g}%" for s in view["steps"])
    console.print(
        f"canary of {deployment} started: v{version} against v{view['stable_version']}, "
        f"steps {steps}"
    )


@canary_app.command("abort")
def canary_abort(
    deployment: str,
    reason: str = typer.Option("", help="recorded with the abort"),
    actor: str = typer.Option("cli", help="recorded as who aborted it"),
    config: Path | None = ConfigOption,
) -> None:
    """Stop the running canary: its traffic goes to 0 and the canary alias points back."""
    ended = _with_ops(config, lambda ops: ops.abort_canary(deployment, actor=actor, reason=reason))
    console.print(f"canary of {deployment} (v{ended.version}) aborted")


@ab_app.command("report")
def ab_report(
    deployment: str, config: Path | None = ConfigOption, as_json: bool = JsonOption
) -> None:
    """Per-arm figures of the A/B test, significance tests with p-values, and a verdict."""
    report = _with_ops(config, lambda ops: ops.ab_report(deployment))
    if as_json:
        dump(report)
        return
    console.print(
        f"A/B test [bold]{report['experiment']}[/bold] of {deployment} "
        f"(sticky by {report['sticky']}, alpha {report['alpha']})"
    )
    table = _arm_table({a["name"]: a for a in report["arms"]}, outcomes=True)
    console.print(table)
    for t in report["tests"]:
        arms = " vs ".join(t.arms)
        console.print(f"  {t.metric}: {t.test} = {t.statistic:.3g}, p = {t.p_value:.3g} ({arms})")
    if not report["outcomes_available"]:
        console.print("  outcomes: no feedback source is available to join")
    console.print(f"verdict: {report['verdict']}")
