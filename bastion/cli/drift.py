"""`bastion drift …`: drift reports (table, HTML and PNG), baselines, training-data profiles.

Everything goes through the running server's admin API (``--url`` / ``$BASTION_URL``,
``--key`` / ``$BASTION_KEY`` or the profile): live windows are held there, and ``profile``
uploads the training data as a stream for the server to profile and store.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump, err_console

if TYPE_CHECKING:
    from bastion.monitoring import DriftReport

# bastion.monitoring (numpy) is imported inside the commands: other commands start
# faster without it.

app = typer.Typer(
    rich_markup_mode=None,
    help="Drift: live traffic against each version's reference profile.",
    no_args_is_help=True,
)

DRIFT_EXIT = 3


def report_from_dict(doc: dict[str, Any]) -> DriftReport:
    """A ``DriftReport`` back from its ``to_dict()`` JSON (as the admin API returns it)."""
    from bastion.monitoring import DriftReport, FeatureDrift

    def signal(d: dict[str, Any] | None) -> FeatureDrift | None:
        if d is None:
            return None
        kw = {f.name: d[f.name] for f in fields(FeatureDrift) if f.name in d}
        for name in ("labels", "reference", "live"):
            kw[name] = tuple(v if v is not None else 0.0 for v in kw.get(name) or ())
        return FeatureDrift(**kw)

    kw = {f.name: doc[f.name] for f in fields(DriftReport) if f.name in doc}
    kw["features"] = tuple(s for s in (signal(f) for f in doc.get("features", [])) if s)
    for name in ("prediction", "confidence", "embedding"):
        kw[name] = signal(doc.get(name))
    return DriftReport(**kw)


@app.command()
def report(
    deployment: str = typer.Argument(..., help="deployment name, e.g. breast-cancer"),
    version: int | None = typer.Option(None, min=1, help="default: the version served now"),
    windows: int = typer.Option(1, min=1, help="merge the open window with earlier ones"),
    out: Path | None = typer.Option(None, help="chart directory (default ./drift-DEPLOYMENT)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    fail_on_drift: bool = typer.Option(False, help=f"exit {DRIFT_EXIT} when drift is found"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Print DEPLOYMENT's drift table and write drift.html (and drift.png with matplotlib)."""
    params: dict[str, Any] = {"windows": windows}
    if version is not None:
        params["version"] = version
    client = AdminClient.resolve(url, key, config)
    data = client.get(f"/v1/admin/deployments/{deployment}/drift", **params)
    found = report_from_dict(data)
    if as_json:
        dump(data)
    else:
        console.print(found.to_text(), markup=False, highlight=False)
        reference = data.get("reference")
        if reference:
            console.print(
                f"reference: {reference['source']} profile of {reference['rows']} rows "
                f"({reference['created_at']})",
                markup=False,
            )
    from bastion.monitoring import write_charts

    files = write_charts(found, out or Path(f"drift-{deployment}"))
    shown = f"{files.html}" + (f" and {files.png}" if files.png else f" ({files.note})")
    console.print(f"wrote {shown}", markup=False, highlight=False)
    if fail_on_drift and found.status == "drift":
        raise typer.Exit(DRIFT_EXIT)


@app.command()
def baseline(
    deployment: str = typer.Argument(...),
    version: int | None = typer.Option(None, min=1, help="default: the version served now"),
    rows: int | None = typer.Option(None, min=10, help="collect the next N live rows instead"),
    since: datetime | None = typer.Option(None, help="freeze predictions logged since then"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Make DEPLOYMENT's reference from live traffic: freeze the current window (default) or
    collect the next --rows rows."""
    body: dict[str, Any] = {}
    for name, value in (("version", version), ("rows", rows)):
        if value is not None:
            body[name] = value
    if since is not None:
        body["since"] = since.isoformat()
    path = f"/v1/admin/deployments/{deployment}/drift/baseline"
    dump(AdminClient.resolve(url, key, config).post(path, body))


@app.command()
def profile(
    model: str = typer.Argument(..., help="registered model name"),
    version: int = typer.Argument(..., min=1),
    training_data: Path = typer.Argument(..., exists=True, dir_okay=False),
    label_column: str | None = typer.Option(None, help="a target column to leave out"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Store MODEL VERSION's drift reference, built by the server from a .csv, .parquet or
    .jsonl file (uploaded as a stream)."""
    path = f"/v1/admin/models/{model}/versions/{version}/drift-profile"
    client = AdminClient.resolve(url, key, config)
    done = client.upload(path, training_data, label_column=label_column)
    console.print(f"stored the drift profile of {model} v{version} ({done['rows']} rows)")


def training_items(path: Path, label_column: str | None) -> list[Any]:
    """The model inputs of a training-data file (``label_column`` left out); exits on error."""
    from bastion.errors import BastionError
    from bastion.monitoring.references import read_training_data, split_label

    try:
        items, _ = split_label(read_training_data(path), label_column)
    except BastionError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    if not items:
        err_console.print(f"[red]error:[/red] {path.name} holds no rows to profile")
        raise typer.Exit(2)
    return items
