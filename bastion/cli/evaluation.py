"""`bastion eval …`: register and list eval sets, run a model version on one, list reports.

Through the server's evaluation API (operators): an eval set uploads as a stream and is
validated there; a run happens in the server, with its models, and is audited there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump, err_console, table

app = typer.Typer(
    rich_markup_mode=None, help="Evaluation: eval sets, runs with scorers and slices, reports."
)
sets_app = typer.Typer(
    rich_markup_mode=None, help="Versioned eval sets (JSONL, CSV, Parquet).", no_args_is_help=True
)
app.add_typer(sets_app, name="sets")

JsonOption = typer.Option(False, "--json", help="print the raw records as JSON")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _ref(name: str, version: int) -> str:
    return f"{name}@{version}"


@sets_app.command("register")
def register_set(
    name: str = typer.Argument(..., help="eval set name, e.g. golden"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".jsonl, .csv, .parquet"),
    description: str = typer.Option("", help="free text"),
    fmt: str | None = typer.Option(None, "--format", help="jsonl | csv | parquet"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Upload FILE (streamed); the server validates it and stores it as the next version of
    NAME (same content: same version)."""
    done = AdminClient.resolve(url, key, config).upload(
        "/v1/admin/eval/sets/upload", file, name=name, format=fmt, description=description
    )
    found = done["data"]
    ref = _ref(found["name"], found["version"])
    if done["created"]:
        slices = found["slices"]
        console.print(
            f"registered eval set [bold]{ref}[/bold]: {found['rows']} rows ({found['format']}), "
            f"sha256 {found['sha256'][:12]}…" + (f", slices: {', '.join(slices)}" if slices else "")
        )
    else:
        console.print(f"unchanged: this content is already [bold]{ref}[/bold]")


@sets_app.command("list")
def list_sets(
    name: str | None = typer.Argument(None),
    as_json: bool = JsonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Every eval set version: rows, format, slices, hash."""
    found = AdminClient.resolve(url, key, config).get("/v1/admin/eval/sets", name=name)["data"]
    if as_json:
        dump(found)
        return
    shown = table("set", "rows", "format", "slices", "sha256", "created", "description")
    for s in found:
        shown.add_row(
            _ref(s["name"], s["version"]),
            str(s["rows"]),
            s["format"],
            ", ".join(s["slices"]),
            s["sha256"][:12],
            f"{_when(s['created_at'])} {s['created_by']}",
            s["description"],
        )
    console.print(shown)


def _when(iso: str) -> str:
    return str(iso).replace("T", " ")[:16]


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def print_report(report: dict[str, Any]) -> None:
    """The overall metrics, one column per slice, and the largest slice gaps."""
    set_ref = _ref(report["set_name"], report["set_version"])
    console.print(
        f"[bold]{_escape(report['model'])} v{report['version']}[/bold] on "
        f"[bold]{_escape(set_ref)}[/bold] "
        f"({report['rows']} rows; report {report['id']}; scorers: {', '.join(report['scorers'])})"
    )
    found = report["slices"]
    slices = list(found)
    shown = table("metric", "overall", *(f"{k} ({found[k]['rows']})" for k in slices))
    for metric, value in report["metrics"].items():
        cells = [_fmt(found[k]["metrics"].get(metric, "–")) for k in slices]
        shown.add_row(metric, _fmt(value), *cells)
    console.print(shown)
    if report["gaps"]:
        gaps = table("metric", "largest slice gap", "best", "worst")
        for metric, gap in report["gaps"].items():
            gaps.add_row(
                metric,
                _fmt(gap["gap"]),
                f"{gap['best']} {_fmt(gap['best_value'])}",
                f"{gap['worst']} {_fmt(gap['worst_value'])}",
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
    as_json: bool = JsonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Run MODEL on an eval set in the server, print the scores; the server stores the report."""
    body = {"model": model, "set": eval_set, "scorers": scorer, "output_field": output_field}
    report = AdminClient.resolve(url, key, config).post("/v1/admin/eval/runs", body)["data"]
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
    as_json: bool = JsonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Stored eval reports, newest first."""
    found = AdminClient.resolve(url, key, config).get(
        "/v1/admin/eval/reports", model=name, version=version, set=eval_set, limit=limit
    )["data"]
    if as_json:
        dump(found)
        return
    if not found:
        err_console.print("no eval reports yet; run one: bastion eval run NAME@VERSION --set SET")
    shown = table("id", "model", "set", "rows", "metrics", "created")
    for r in found:
        metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in list(r["metrics"].items())[:6])
        shown.add_row(
            str(r["id"]),
            f"{r['model']} v{r['version']}",
            _ref(r["set_name"], r["set_version"]),
            str(r["rows"]),
            metrics,
            f"{_when(r['created_at'])} {r['created_by']}",
        )
    console.print(shown)
