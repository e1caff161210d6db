"""`bastion costs report`: requests, tokens and spend by key/team/tenant/deployment/model/day,
as the server's costs API reports them (scoped to what the key may see)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, err_console, table

app = typer.Typer(
    rich_markup_mode=None,
    help="Costs: what each key, team, tenant and model spent.",
    no_args_is_help=True,
)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err_console.print(f"[red]error:[/red] {option}: expected a date like 2025-06-01")
        raise typer.Exit(2) from None


@app.command()
def report(
    by: list[str] = typer.Option(
        ["tenant", "day"], help="key | team | tenant | deployment | model | day (repeatable)"
    ),
    since: str | None = typer.Option(None, help="first UTC day, e.g. 2025-06-01"),
    until: str | None = typer.Option(None, help="last UTC day (inclusive)"),
    tenant: str | None = typer.Option(None),
    team: str | None = typer.Option(None),
    key_id: str | None = typer.Option(None, help="only this API key's usage (its id)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Sum the usage log (one row per answered call, cached and streamed ones included).
    Admins see every tenant; operators their own; other keys only their own usage."""
    _date(since, "--since"), _date(until, "--until")  # a typo fails here, not on the server
    dims = [part for b in by for part in b.split(",") if part]
    found = AdminClient.resolve(url, key, config).get(
        "/v1/costs", by=dims, since=since, until=until, tenant=tenant, team=team, key=key_id
    )
    if as_json:
        typer.echo(json.dumps(found))
        return
    dims, rows = found["by"], found["data"]
    shown = table(*dims, "requests", "cached", "tokens", "cost (USD)")
    for r in rows:
        shown.add_row(
            *(str(r[d]) if r[d] is not None else "—" for d in dims),
            str(r["requests"]),
            str(r["cached"]),
            str(r["tokens"]),
            f"{r['cost_usd']:.6f}",
        )
    console.print(shown)
    total = found["total_usd"]
    console.print(f"total: ${total:.6f} over {sum(r['requests'] for r in rows)} calls")
