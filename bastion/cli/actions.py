"""`bastion actions list|show|retry|drop`: the outbox of a running server (admin API client)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump

app = typer.Typer(help="Downstream actions: list, show, retry, drop.", no_args_is_help=True)
BASE = "/v1/admin/actions"


def _client(url: str | None, key: str | None, config: Path | None) -> AdminClient:
    return AdminClient.resolve(url, key, config)


@app.command("list")
def list_actions(
    status: str | None = typer.Option(None, help="held|pending|compensating|conflict|done|dead…"),
    deployment: str | None = typer.Option(None),
    tenant: str | None = typer.Option(None, help="admins: one tenant"),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Actions newest first."""
    from rich.table import Table

    found = _client(url, key, config).get(
        BASE, status=status, deployment=deployment, tenant=tenant, limit=limit
    )["data"]
    if as_json:
        dump(found)
        return
    if not found:
        console.print("no actions")
        return
    table = Table("id", "status", "deployment", "action", "step", "attempts", "decision", "error")
    for a in found:
        table.add_row(
            a["id"],
            a["status"],
            a["deployment"],
            a["action"],
            str(a["step"]),
            str(a["attempts"]),
            a["decision_id"],
            (a["last_error"] or "")[:60],
        )
    console.print(table)


@app.command("show")
def show_action(
    action_id: str,
    as_json: bool = typer.Option(False, "--json"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """One action: each step, each attempt and its outcome."""
    found = _client(url, key, config).get(f"{BASE}/{action_id}")
    if as_json:
        dump(found)
        return
    _print(found)


@app.command("retry")
def retry_action(
    action_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Queue a dead or conflicted action again, from the step where it stopped."""
    done = _client(url, key, config).post(f"{BASE}/{action_id}/retry")
    console.print(f"action {done['id']} is {done['status']} again")


@app.command("drop")
def drop_action(
    action_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Give up an unfinished (or dead) action: it is never delivered again."""
    done = _client(url, key, config).post(f"{BASE}/{action_id}/drop")
    console.print(f"action {done['id']} is {done['status']}")


def _print(a: dict[str, Any]) -> None:
    console.print(
        f"[bold]{a['id']}[/bold]  {a['status']}  {a['deployment']}/{a['action']}  "
        f"decision {a['decision_id']}  tenant {a['tenant']}",
        highlight=False,
    )
    if a.get("last_error"):
        console.print(f"  last error: {a['last_error']}", highlight=False)
    for step in a.get("steps", []):
        console.print(f"  step {step['index']} {step['name']}: {step['state']}", highlight=False)
        for t in step["attempts"]:
            code = f" HTTP {t['status_code']}" if t["status_code"] else ""
            error = f" — {t['error']}" if t["error"] else ""
            console.print(
                f"    {t['phase']} #{t['attempt']} {t['at']} {t['outcome']}{code} "
                f"{t['latency_ms']} ms{error}",
                highlight=False,
            )
