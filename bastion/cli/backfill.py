"""`bastion backfill DEPLOYMENT --version N`: re-run history through a version (API client).

From the prediction log (``--since``/``--until``) or a file (``--input``, eval-set shaped:
``input``, ``answered``, ``expected``, ``slices``), paced by ``--rate`` rows/s; prints the
comparison report and, with ``--eval-set NAME``, registers the rows as an eval set.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from bastion.cli.batch import follow
from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, dump, err_console


def backfill(
    deployment: str,
    version: int = typer.Option(..., min=1, help="the version to run the history through"),
    since: datetime | None = typer.Option(None, help="log start (ISO time)"),
    until: datetime | None = typer.Option(None, help="log end (ISO time, exclusive)"),
    input: Path | None = typer.Option(None, "--input", "-i", exists=True, dir_okay=False),
    rate: float | None = typer.Option(None, "--rate", min=0.001, help="rows/s at most"),
    eval_set: str | None = typer.Option(None, "--eval-set", help="register the rows as NAME"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Re-run logged inputs (or a file) through VERSION and compare with what was answered."""
    client = AdminClient.resolve(url, key, config)
    if input is not None:
        job = client.upload("/v1/admin/jobs", input, deployment=deployment, version=version,
                            kind="backfill", rows_per_s=rate)["data"]  # fmt: skip
    elif since is not None and until is not None:
        body = {"deployment": deployment, "version": version, "since": since.isoformat(),
                "until": until.isoformat(), "rows_per_s": rate}  # fmt: skip
        job = client.post("/v1/admin/backfills", body)["data"]
    else:
        err_console.print("[red]error:[/red] give --input FILE, or --since and --until")
        raise typer.Exit(2)
    job = follow(client, job)
    if job["status"] != "succeeded":
        err_console.print(f"[red]backfill {job['id']} {job['status']}:[/red] {job.get('error')}")
        raise typer.Exit(1)
    dump(client.get(f"/v1/admin/jobs/{job['id']}/report")["data"])
    if eval_set:
        found = client.post(f"/v1/admin/jobs/{job['id']}/eval-set", {"name": eval_set})["data"]
        err_console.print(f"eval set {found['name']} v{found['version']} registered")
