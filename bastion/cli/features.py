"""`bastion features load|export`: the built-in feature table (admin API client)."""

from __future__ import annotations

from pathlib import Path

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console

app = typer.Typer(help="Feature lookup: load the built-in table; export training rows.")


@app.command("load")
def load(
    table: str,
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    entity_key: str = typer.Option(..., "--entity-key", help="the column naming the entity"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Append FILE's rows (CSV, JSONL, Parquet; optional valid_from column) to TABLE."""
    client = AdminClient.resolve(url, key, config)
    done = client.upload(f"/v1/admin/features/{table}", file, entity_key=entity_key)["data"]
    console.print(f"{done['rows']} rows loaded into {table}")


@app.command("export")
def export(
    table: str,
    entities: Path = typer.Option(..., "--entities", exists=True, dir_okay=False),
    entity_key: str = typer.Option(..., "--entity-key"),
    as_of: str | None = typer.Option(None, "--as-of", help="ISO time (default: now)"),
    output: Path = typer.Option(..., "--output", "-o", help="training rows (JSONL)"),
    deployment: str | None = typer.Option(None, help="prepare rows with its transform"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Each entity's features as they held at --as-of (or its row's as_of): training rows
    that match what serving read at that time."""

    client = AdminClient.resolve(url, key, config)
    tmp = output.with_name(f".{output.name}.part")
    headers = {"content-type": "application/octet-stream"}
    params = {"entity_key": entity_key, "filename": entities.name}
    params.update({k: v for k, v in (("as_of", as_of), ("deployment", deployment)) if v})
    path = f"/v1/admin/features/{table}/export"
    with entities.open("rb") as body, tmp.open("wb") as out:
        client.send("POST", path, content=body, params=params, headers=headers, sink=out.write)
    tmp.replace(output)
    console.print(f"training rows → {output}")
