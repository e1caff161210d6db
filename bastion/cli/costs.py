"""`bastion costs report`: requests, tokens and spend by key/team/tenant/deployment/model/day."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bastion.cli.common import ConfigOption, console, err_console, opened_db, run, settings_from

app = typer.Typer(help="Costs: what each key, team, tenant and model spent.", no_args_is_help=True)


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
    key: str | None = typer.Option(None, help="a key id"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    config: Path | None = ConfigOption,
) -> None:
    """Sum the usage log (one row per answered call, cached and streamed ones included)."""
    from bastion.governance.costs import CostFilter, cost_report, parse_dimensions, total_cost

    settings = settings_from(config)
    where = CostFilter(_date(since, "--since"), _date(until, "--until"), tenant, team, key)
    dims = parse_dimensions([part for b in by for part in b.split(",") if part])

    async def go() -> list[dict[str, Any]]:
        async with opened_db(settings) as db:
            return await cost_report(db, dims, where)

    rows = run(go())
    if as_json:
        typer.echo(json.dumps({"by": dims, "data": rows, "total_usd": total_cost(rows)}))
        return
    table = Table(*dims, "requests", "cached", "tokens", "cost (USD)")
    for r in rows:
        table.add_row(
            *(str(r[d]) if r[d] is not None else "—" for d in dims),
            str(r["requests"]),
            str(r["cached"]),
            str(r["tokens"]),
            f"{r['cost_usd']:.6f}",
        )
    console.print(table)
    console.print(f"total: ${total_cost(rows):.6f} over {sum(r['requests'] for r in rows)} calls")
