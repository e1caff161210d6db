"""`bastion batch …`: run a file through a deployment on the server, list, status, cancel.

A thin client of the jobs admin API (``/v1/admin/jobs``): ``run`` uploads the input
(streamed), follows the job's progress (rows/s, ETA) and downloads the output atomically to
``--output`` (a temporary file renamed into place once complete).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump, err_console

app = typer.Typer(help="Batch jobs: score a CSV, JSONL or Parquet file on the server.")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def output_format(path: Path) -> str:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        err_console.print(
            f"[red]error:[/red] --output {path}: name a .parquet, .jsonl or .csv file"
        )
        raise typer.Exit(2)
    return fmt


def download(client: AdminClient, path: str, dest: Path) -> None:
    """Stream ``path`` into ``dest`` atomically: a partial download never has its name."""
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            client.download(path, fh.write)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def follow(client: AdminClient, job: dict[str, Any], interval_s: float = 0.5) -> dict[str, Any]:
    """Poll the job until it finishes, with a Rich progress bar (rows/s and ETA)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console.rich(), transient=False) as progress:
        task = progress.add_task(job["id"], total=job.get("rows_total"), rate="-")
        started, first = time.monotonic(), job["rows_done"]
        while job["status"] in ("queued", "running"):
            time.sleep(interval_s)
            job = client.get(f"/v1/admin/jobs/{job['id']}")["data"]
            elapsed = max(time.monotonic() - started, 1e-9)
            rate = (job["rows_done"] - first) / elapsed
            progress.update(task, completed=job["rows_done"], rate=f"{rate:,.0f}")
    return job


@app.command("run")
def run_job(
    deployment: str,
    input: Path = typer.Option(..., "--input", "-i", exists=True, dir_okay=False),
    output: Path = typer.Option(..., "--output", "-o", help="out.parquet | out.jsonl | out.csv"),
    engine: str = typer.Option("local", help="local | ray"),
    version: int | None = typer.Option(None, min=1, help="a pinned version (default: live)"),
    errors: Path | None = typer.Option(None, help="where the refused rows go (JSONL)"),
    wait: bool = typer.Option(True, help="follow the job and download its output"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Score every row of INPUT with DEPLOYMENT on the server; write the answers to OUTPUT."""
    fmt = output_format(output)
    client = AdminClient.resolve(url, key, config)
    job = client.upload(
        "/v1/admin/jobs",
        input,
        deployment=deployment,
        output_format=fmt,
        engine=engine,
        version=version,
    )["data"]
    err_console.print(f"job {job['id']}: {job['rows_total']} rows queued on {deployment}")
    if not wait:
        console.print(job["id"])
        return
    job = follow(client, job)
    if job["status"] != "succeeded":
        err_console.print(f"[red]job {job['id']} {job['status']}:[/red] {job.get('error') or ''}")
        raise typer.Exit(1)
    download(client, f"/v1/admin/jobs/{job['id']}/output", output)
    errors = errors or output.with_name(output.stem + ".errors.jsonl")
    if job["rows_failed"]:
        download(client, f"/v1/admin/jobs/{job['id']}/errors", errors)
    console.print(
        f"{job['rows_done'] - job['rows_failed']} rows answered → {output}; "
        f"{job['rows_failed']} refused"
        + (f" → {errors}" if job["rows_failed"] else "")
        + f"; cost ${job['cost_usd']:.6f}"
    )


@app.command("list")
def list_jobs(
    url: str | None = UrlOption, key: str | None = KeyOption, config: Path | None = ConfigOption
) -> None:
    """The jobs of your tenant (admins: every tenant), newest first."""
    from rich.table import Table

    jobs = AdminClient.resolve(url, key, config).get("/v1/admin/jobs")["data"]
    table = Table("id", "deployment", "engine", "status", "rows", "failed", "cost $")
    for j in jobs:
        done = f"{j['rows_done']}/{j['rows_total']}"
        table.add_row(
            j["id"],
            j["deployment"],
            j["engine"],
            j["status"],
            done,
            str(j["rows_failed"]),
            f"{j['cost_usd']:.6f}",
        )
    console.print(table)


@app.command("status")
def status(
    job_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """One job's state and progress."""
    dump(AdminClient.resolve(url, key, config).get(f"/v1/admin/jobs/{job_id}")["data"])


@app.command("cancel")
def cancel(
    job_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Stop a job before its next chunk (the chunks done so far stay recorded)."""
    dump(AdminClient.resolve(url, key, config).post(f"/v1/admin/jobs/{job_id}/cancel")["data"])
