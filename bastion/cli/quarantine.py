"""`bastion quarantine list|show|replay|drop`: rows held by a data contract (admin API client)."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump

app = typer.Typer(help="Rows that broke a deployment's data contract, held for review.")


@app.command("list")
def list_rows(
    deployment: str | None = typer.Option(None, help="only this deployment"),
    source: str | None = typer.Option(None, help="online, or a job id"),
    status: str = typer.Option("held", help="held | replayed | dropped | all"),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Quarantined rows of your tenant, oldest first, with the rules they broke."""
    from rich.table import Table

    rows = AdminClient.resolve(url, key, config).get(
        "/v1/admin/quarantine", deployment=deployment, source=source, status=status, limit=limit
    )["data"]
    if as_json:
        dump(rows)
        return
    table = Table("id", "deployment", "source", "row", "rules", "status")
    for r in rows:
        rules = ", ".join(v["rule"] for v in r["reasons"])
        table.add_row(str(r["id"]), r["deployment"], r["source"], str(r["row"]), rules, r["status"])
    console.print(table)


@app.command("show")
def show(
    item_id: int,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """One quarantined row: its input and every rule it broke."""
    dump(AdminClient.resolve(url, key, config).get(f"/v1/admin/quarantine/{item_id}")["data"])


@app.command("replay")
def replay(
    ids: list[int],
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Check rows against today's contract; answer those that pass now."""
    client = AdminClient.resolve(url, key, config)
    dump(client.post("/v1/admin/quarantine/replay", {"ids": ids})["data"])


@app.command("drop")
def drop(
    ids: list[int],
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Mark rows dropped: they leave the held list (and stay listed as dropped)."""
    client = AdminClient.resolve(url, key, config)
    dump(client.post("/v1/admin/quarantine/drop", {"ids": ids})["data"])
