"""`bastion artifacts show|migrate`: the artifact store, through the server's admin API
(admins). A migration copies; switching ``artifacts.url`` on the replicas is the next step."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console

app = typer.Typer(
    help="The artifact store: show it, migrate to another (through the server; admins)."
)


@app.command("show")
def show(
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """The store the server reads artifacts from, and how many artifacts the registry names."""
    found = AdminClient.resolve(url, key, config).get("/v1/admin/artifacts")
    console.print(f"store: {found['store']}  artifacts: {found['artifacts']}")


@app.command("migrate")
def migrate(
    to: str = typer.Option(..., "--to", help="database, or s3://BUCKET/PREFIX?endpoint_url=…"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Copy every artifact (model versions and eval sets) into the store at --to, each
    re-hashed where it landed; exit 1 if any could not be. The source keeps its copies: then
    set artifacts.url to the new store on every replica and restart them one by one."""
    found = AdminClient.resolve(url, key, config).post("/v1/admin/artifacts/migrate", {"to": to})
    console.print(
        f"{found['source']} → {found['target']}: {found['copied']} copied, "
        f"{found['present']} already there, {len(found['failed'])} failed"
    )
    for failure in found["failed"]:
        console.print(f"[red]FAILED[/red] {failure['sha256']}: {failure['reason']}")
    if not found["ok"]:
        raise typer.Exit(1)
    console.print(f"next: set artifacts.url: {to} on every replica, then restart them")
