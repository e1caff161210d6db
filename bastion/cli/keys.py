"""`bastion keys …`: create, list and revoke API keys (straight against the database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bastion.cli.common import ConfigOption, console, opened, run, settings_from

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)


@app.command()
def create(
    name: str = typer.Option(..., help="who or what the key is for"),
    role: list[str] = typer.Option(
        ["client"], help="admin | operator | approver | reviewer | client"
    ),
    deployment: list[str] = typer.Option([], help="restrict to these deployments (default: all)"),
    tenant: str = typer.Option("default"),
    config: Path | None = ConfigOption,
) -> None:
    """Create a key; its secret is printed once and never stored."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (_, keys):
            return await keys.create(name, role, deployments=deployment or None, tenant=tenant)

    secret, key = run(go())
    console.print(
        f"created {key.id} ({', '.join(key.roles)}). Store the secret now, it is not shown again:"
    )
    console.print(secret, markup=False, highlight=False)


@app.command("list")
def list_keys(config: Path | None = ConfigOption) -> None:
    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (_, keys):
            return await keys.list()

    table = Table("id", "prefix", "name", "tenant", "roles", "deployments", "created", "revoked")
    for k in run(go()):
        table.add_row(
            k.id,
            k.prefix + "…",
            k.name,
            k.tenant,
            ",".join(k.roles),
            ",".join(k.deployments) if k.deployments is not None else "all",
            str(k.created_at)[:19],
            str(k.revoked_at)[:19] if k.revoked_at else "",
        )
    console.print(table)


@app.command()
def revoke(key_id: str, config: Path | None = ConfigOption) -> None:
    """Revoke a key; servers stop accepting it within five seconds."""
    settings = settings_from(config)

    async def go() -> None:
        async with opened(settings) as (_, keys):
            await keys.revoke(key_id)

    run(go())
    console.print(f"revoked {key_id}")
