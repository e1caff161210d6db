"""`bastion eval …`: register and list eval sets, run a model version on one, list reports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from bastion.cli.audit import audit_admin
from bastion.cli.common import (
    ConfigOption,
    console,
    dump,
    err_console,
    opened_db,
    run,
    settings_from,
)
from bastion.settings import Settings

if TYPE_CHECKING:
    from bastion.evaluation import EvalReport, EvaluationService
    from bastion.registry import Registry
    from bastion.security import KeyStore
    from bastion.store import Database

app = typer.Typer(help="Evaluation: eval sets, runs with scorers and slices, reports.")
sets_app = typer.Typer(help="Versioned eval sets (JSONL, CSV, Parquet).", no_args_is_help=True)
app.add_typer(sets_app, name="sets")

JsonOption = typer.Option(False, "--json", help="print the raw records as JSON")


def build_evaluation(settings: Settings, db: Database, registry: Registry) -> EvaluationService:
    """The evaluation service over ``db``, reading the shadow stats the servers persisted
    (for ``shadow_agreement`` gates); models load in this process, as a server loads them."""
    import functools

    from bastion.backends.resources import Resources
    from bastion.evaluation import EvaluationService
    from bastion.registry import ArtifactStore
    from bastion.routing.loaded import load_version
    from bastion.routing.rollouts.book import ShadowAgreement, StatsBook
    from bastion.routing.rollouts.store import RolloutStore

    artifacts = ArtifactStore(settings.artifacts_dir)
    loader = functools.partial(load_version, registry, Resources())
    shadow = ShadowAgreement(RolloutStore(db), StatsBook("cli"))
    return EvaluationService(settings.evaluation, db, registry, artifacts, loader, shadow=shadow)


@contextlib.asynccontextmanager
async def opened_evaluation(
    settings: Settings,
) -> AsyncIterator[tuple[Registry, EvaluationService, KeyStore]]:
    """The registry, the evaluation service and the key store over the configured database."""
    from bastion.registry import ArtifactStore, Registry
    from bastion.security import KeyStore

    async with opened_db(settings) as db:
        registry = Registry(db, ArtifactStore(settings.artifacts_dir))
        yield registry, build_evaluation(settings, db, registry), KeyStore(db)


@sets_app.command("register")
def register_set(
    name: str = typer.Argument(..., help="eval set name, e.g. golden"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".jsonl, .csv, .parquet"),
    description: str = typer.Option("", help="free text"),
    fmt: str | None = typer.Option(None, "--format", help="jsonl | csv | parquet"),
    created_by: str = typer.Option("cli", help="recorded as the creator"),
    config: Path | None = ConfigOption,
) -> None:
    """Validate FILE and store it as the next version of NAME (same content: same version)."""
    settings = settings_from(config)
    content = file.read_bytes()

    async def go() -> Any:
        async with opened_evaluation(settings) as (_, evaluation, _keys):
            return await evaluation.sets.register(
                name,
                content,
                filename=file.name,
                fmt=fmt,
                description=description,
                created_by=created_by,
            )

    found, created = run(go())
    if created:
        details = {"sha256": found.sha256, "rows": found.rows, "format": found.format}
        run(audit_admin(settings, created_by, "eval_set.registered", found.ref, details))
        console.print(
            f"registered eval set [bold]{found.ref}[/bold]: {found.rows} rows ({found.format}), "
            f"sha256 {found.sha256[:12]}…"
            + (f", slices: {', '.join(found.slices)}" if found.slices else "")
        )
    else:
        console.print(f"unchanged: this content is already [bold]{found.ref}[/bold]")


@sets_app.command("list")
def list_sets(
    name: str | None = typer.Argument(None),
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Every eval set version: rows, format, slices, hash."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened_evaluation(settings) as (_, evaluation, _keys):
            return await evaluation.sets.list_sets(name)

    found = run(go())
    if as_json:
        dump(found)
        return
    table = Table("set", "rows", "format", "slices", "sha256", "created", "description")
    for s in found:
        table.add_row(
            escape(s.ref),
            str(s.rows),
            s.format,
            escape(", ".join(s.slices)),
            s.sha256[:12],
            escape(f"{s.created_at:%Y-%m-%d %H:%M} {s.created_by}"),
            escape(s.description),
        )
    console.print(table)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def print_report(report: EvalReport) -> None:
    """The overall metrics, one column per slice, and the largest slice gaps."""
    console.print(
        f"[bold]{escape(report.model)} v{report.version}[/bold] on "
        f"[bold]{escape(report.set_ref)}[/bold] "
        f"({report.rows} rows; report {report.id}; scorers: {', '.join(report.scorers)})"
    )
    slices = list(report.slices)
    table = Table(
        "metric", "overall", *(escape(f"{k} ({report.slices[k]['rows']})") for k in slices)
    )
    for metric, value in report.metrics.items():
        cells = [_fmt(report.slices[k]["metrics"].get(metric, "–")) for k in slices]
        table.add_row(escape(metric), _fmt(value), *cells)
    console.print(table)
    if report.gaps:
        gaps = Table("metric", "largest slice gap", "best", "worst")
        for metric, gap in report.gaps.items():
            gaps.add_row(
                escape(metric),
                _fmt(gap["gap"]),
                escape(f"{gap['best']} {_fmt(gap['best_value'])}"),
                escape(f"{gap['worst']} {_fmt(gap['worst_value'])}"),
            )
        console.print(gaps)


@app.command("run")
def run_eval(
    model: str = typer.Argument(..., help="NAME@VERSION (a number, latest or an alias)"),
    eval_set: str = typer.Option(..., "--set", help="SET or SET@VERSION"),
    scorer: list[str] = typer.Option(
        [],
        "--scorer",
        help="repeatable: accuracy, f1, exact_match, regex[:P], json_schema, "
        "mae, latency, custom:module:function (default: chosen from the expected values)",
    ),
    output_field: str | None = typer.Option(None, help="the output field scored"),
    created_by: str = typer.Option("cli", help="recorded on the report"),
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Run MODEL on an eval set in this process, print the scores and store the report."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened_evaluation(settings) as (_, evaluation, _keys):
            return await evaluation.runner.run(
                model, eval_set, scorers=scorer, output_field=output_field, created_by=created_by
            )

    report = run(go())
    details = {"set": report.set_ref, "report": report.id, "metrics": report.metrics}
    run(audit_admin(settings, created_by, "eval.run", f"{report.model}@{report.version}", details))
    if as_json:
        dump(report)
    else:
        print_report(report)


@app.command("reports")
def reports(
    name: str | None = typer.Argument(None, help="model name (default: every model)"),
    version: int | None = typer.Option(None),
    eval_set: str | None = typer.Option(None, "--set", help="eval set name"),
    limit: int = typer.Option(50, min=1, max=1000),
    config: Path | None = ConfigOption,
    as_json: bool = JsonOption,
) -> None:
    """Stored eval reports, newest first."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened_evaluation(settings) as (_, evaluation, _keys):
            return await evaluation.reports.list_reports(
                name, version, set_name=eval_set, limit=limit
            )

    found = run(go())
    if as_json:
        dump(found)
        return
    if not found:
        err_console.print("no eval reports yet; run one: bastion eval run NAME@VERSION --set SET")
    table = Table("id", "model", "set", "rows", "metrics", "created")
    for r in found:
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in list(r.metrics.items())[:6])
        table.add_row(
            str(r.id),
            escape(f"{r.model} v{r.version}"),
            escape(r.set_ref),
            str(r.rows),
            escape(shown),
            escape(f"{r.created_at:%Y-%m-%d %H:%M} {r.created_by}"),
        )
    console.print(table)
