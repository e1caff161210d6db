"""`bastion data diff DEPLOYMENT --input FILE`: what changed in a source (admin API client)."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump

app = typer.Typer(help="Data: compare inputs with what a deployment expects.")


@app.command("diff")
def diff(
    deployment: str,
    input: Path = typer.Option(..., "--input", "-i", exists=True, dir_okay=False),
    as_json: bool = typer.Option(False, "--json"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """New, missing or renamed fields, type changes, new categories and unit shifts of INPUT
    against DEPLOYMENT's served version (its input schema and training profile).
    Exit code 3 when anything changed."""
    client = AdminClient.resolve(url, key, config)
    found = client.upload("/v1/admin/data/diff", input, deployment=deployment)["data"]
    if as_json:
        dump(found)
    else:
        console.print(f"{deployment} v{found['version']}, {found['rows']} rows: {found['summary']}")
    if found["changes"]:
        raise typer.Exit(3)
